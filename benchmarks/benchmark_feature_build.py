"""Time and memory of the feature build (conf/home_credit recipe) at Home Credit scale.

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_feature_build.py [--sizes 10000 100000 307511]

For each size it writes Home-Credit-shaped CSVs with the project's generator (kept in
data/01_raw/benchmark/<size>/ for the next run), then, each in its own process so that
peak memory is the step's own:

- anchor: a plain DuckDB scan of the four files (every column of every row read once);
- build: what `kedro run --pipelines feature_engineering --env home_credit` does — the
  application table through its catalog dataset, the related tables through
  RelatedTablesDataset and the full recipe (146 aggregates) through build_features.

It prints a table: seconds, peak RSS, build / scan ratio and microseconds per applicant
(raw and net of the fixed cost measured on 100 applicants, to show linear growth).
Targets (issue 14): at 307,511 applicants build <= 30 s, <= 5x the scan, peak <= 2 GB;
time per applicant within +-30 % across sizes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FILES = {"bureau": "bureau", "previous": "previous_application",
         "installments": "installments_payments"}
TARGETS = {"wall_s": 30.0, "ratio": 5.0, "peak_gb": 2.0, "linearity": 0.30}


def generate(size: int) -> Path:
    out = ROOT / "data/01_raw/benchmark" / str(size)
    if not (out / "installments_payments.csv").exists():
        subprocess.run([sys.executable, "-m", "credit_scoring", "synth", "home-credit",
                        "--applicants", str(size), "--out", str(out)], check=True, cwd=ROOT,
                       capture_output=True)
    return out


def scan(folder: Path) -> dict:
    """Anchor: every column of the four files read once by DuckDB, nothing else."""
    import duckdb  # noqa: PLC0415

    con = duckdb.connect()
    start = time.perf_counter()
    for name in ["application_train", *FILES.values()]:
        con.sql(f"SELECT COUNT(*), MAX(COLUMNS(*)) FROM read_csv('{folder / name}.csv')").fetchall()
    return {"seconds": time.perf_counter() - start}


def build(folder: Path) -> dict:
    """The feature_engineering node's work, as the pipeline loads and runs it."""
    from credit_scoring.datasets import ApplicantCSVDataset, RelatedTablesDataset  # noqa: PLC0415
    from credit_scoring.feature_build import build_features  # noqa: PLC0415

    recipe = yaml.safe_load((ROOT / "conf/home_credit/parameters_feature_engineering.yml")
                            .read_text())["feature_engineering"]["tables"]
    start = time.perf_counter()
    applicants = ApplicantCSVDataset(filepath=str(folder / "application_train.csv")).load()
    read = time.perf_counter() - start
    tables = RelatedTablesDataset(
        tables={n: str(folder / f"{f}.csv") for n, f in FILES.items()}).load()
    features, report = build_features(applicants, tables, recipe, "SK_ID_CURR")
    return {"seconds": time.perf_counter() - start, "read_application_s": read,
            "features": report["features"], "shape": list(features.shape)}


def child(step: str, folder: str) -> None:
    result = {"scan": scan, "build": build}[step](Path(folder))
    result["peak_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(json.dumps(result))  # noqa: T201


def measure(step: str, folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", step, str(folder)],
                          check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 307_511])
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    fixed = measure("build", generate(100))["seconds"]
    print(f"fixed cost (build on 100 applicants: connect, compile, read): {fixed:.2f} s\n")
    print(f"{'applicants':>10} {'scan s':>7} {'build s':>8} {'ratio':>6} {'peak GB':>8} "
          f"{'us/appl.':>9} {'net us/appl.':>13} {'features':>9}")
    rows = []
    for size in args.sizes:
        folder = generate(size)
        anchor, result = measure("scan", folder), measure("build", folder)
        row = {"size": size, "scan": anchor["seconds"], "build": result["seconds"],
               "ratio": result["seconds"] / anchor["seconds"], "peak": result["peak_gb"],
               "per": 1e6 * result["seconds"] / size,
               "net": 1e6 * (result["seconds"] - fixed) / size, "features": result["features"]}
        rows.append(row)
        print(f"{size:>10,} {row['scan']:>7.1f} {row['build']:>8.1f} {row['ratio']:>6.2f} "
              f"{row['peak']:>8.2f} {row['per']:>9.1f} {row['net']:>13.1f} "
              f"{row['features']:>9}", flush=True)
    net = [r["net"] for r in rows]
    spread = (max(net) - min(net)) / (sum(net) / len(net))
    largest = rows[-1]
    print(f"\ntargets at {largest['size']:,}: build {largest['build']:.1f} s "
          f"(<= {TARGETS['wall_s']:.0f}), {largest['ratio']:.1f}x scan (<= {TARGETS['ratio']:.0f}), "
          f"peak {largest['peak']:.2f} GB (<= {TARGETS['peak_gb']}); net time per applicant "
          f"spread {100 * spread:.0f} % (<= {100 * TARGETS['linearity']:.0f} %)")


if __name__ == "__main__":
    main()
