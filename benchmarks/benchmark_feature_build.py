"""Time and memory of the feature build (conf/home_credit recipe) at Home Credit scale.

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_feature_build.py [--sizes 10000 100000 307511]

For each size it writes Home-Credit-shaped CSVs with the project's generator (kept in
data/01_raw/benchmark/<size>/ for the next run), then, each in its own process so that
peak memory is the step's own:

- anchor: a plain DuckDB scan of the four files (`SELECT COUNT(*)` of each CSV: every row
  parsed, nothing computed);
- build: what `kedro run --pipelines feature_engineering --env home_credit` does — the
  application table through its catalog dataset, the related tables through
  RelatedTablesDataset and the full recipe (146 aggregates) through build_features.

It prints a table: seconds, peak RSS, build / scan ratio, microseconds per applicant and the
marginal microseconds per applicant from the previous size (the slope b of time = a + b * n:
linear growth means b stays the same as n grows; the raw time per applicant also carries the
fixed cost a — connect, compile, sniff the CSVs — which small sizes do not amortise).
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
    """Anchor: the four files scanned by DuckDB, nothing computed."""
    import duckdb  # noqa: PLC0415

    con = duckdb.connect()
    start = time.perf_counter()
    for name in ["application_train", *FILES.values()]:
        con.sql(f"SELECT COUNT(*) FROM read_csv('{folder / name}.csv')").fetchall()
    return {"seconds": time.perf_counter() - start}


def build(folder: Path) -> dict:
    """The feature_engineering node's work, as the pipeline loads and runs it."""
    from credit_scoring.data.feature_build import build_features  # noqa: PLC0415
    from credit_scoring.io.datasets import ApplicantCSVDataset, RelatedTablesDataset  # noqa: PLC0415

    recipe = yaml.safe_load((ROOT / "conf/home_credit/parameters_feature_engineering.yml")
                            .read_text())["feature_engineering"]["tables"]
    entry = yaml.safe_load((ROOT / "conf/home_credit/catalog.yml").read_text())["related_tables"]
    start = time.perf_counter()
    applicants = ApplicantCSVDataset(filepath=str(folder / "application_train.csv")).load()
    read = time.perf_counter() - start
    tables = RelatedTablesDataset(
        tables={n: str(folder / f"{f}.csv") for n, f in FILES.items()},
        backend_args=entry.get("backend_args")).load()
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
    print(f"{'applicants':>10} {'scan s':>7} {'build s':>8} {'ratio':>6} {'peak GB':>8} "
          f"{'us/appl.':>9} {'marginal us/appl.':>18} {'features':>9}")
    rows = []
    for size in args.sizes:
        folder = generate(size)
        anchor, result = measure("scan", folder), measure("build", folder)
        row = {"size": size, "scan": anchor["seconds"], "build": result["seconds"],
               "ratio": result["seconds"] / anchor["seconds"], "peak": result["peak_gb"],
               "per": 1e6 * result["seconds"] / size, "features": result["features"]}
        if rows:
            row["marginal"] = 1e6 * (row["build"] - rows[-1]["build"]) / (size - rows[-1]["size"])
        rows.append(row)
        marginal = f"{row['marginal']:>18.1f}" if "marginal" in row else f"{'':>18}"
        print(f"{size:>10,} {row['scan']:>7.1f} {row['build']:>8.1f} {row['ratio']:>6.2f} "
              f"{row['peak']:>8.2f} {row['per']:>9.1f} {marginal} {row['features']:>9}",
              flush=True)
    slopes = [r["marginal"] for r in rows if "marginal" in r]
    middle = (max(slopes) + min(slopes)) / 2
    largest = rows[-1]
    print(f"\ntargets at {largest['size']:,}: build {largest['build']:.1f} s "
          f"(<= {TARGETS['wall_s']:.0f}), {largest['ratio']:.1f}x scan (<= {TARGETS['ratio']:.0f}), "
          f"peak {largest['peak']:.2f} GB (<= {TARGETS['peak_gb']}); marginal time per applicant "
          f"within +-{100 * (max(slopes) - middle) / middle:.0f} % "
          f"(<= {100 * TARGETS['linearity']:.0f} %)")


if __name__ == "__main__":
    main()
