"""Time the validation report (`kedro run --pipelines validation`) against its targets.

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_validation.py                       # default data, <= 15 s
    python benchmarks/benchmark_validation.py --project DIR --env home_credit   # <= 120 s

Without --project it builds a fresh project from conf/base and data/01_raw (its own MLflow
store, nothing of yours touched), runs the default workflow once so a champion is
registered, then times the validation pipeline alone. With --project it validates the
champion of an existing project (e.g. the one `benchmark_home_credit.py --keep DIR` left at
307,511 applicants) with this checkout's code and configuration: a temporary project whose
data/ and mlruns/ point at DIR's, after data_processing has re-derived the feature schema.
The table gives the validation stage's seconds (its nodes and dataset I/O, from
data/08_reporting/stage_timings.csv: what the target is about), the whole command's wall
seconds (plus starting Python, Kedro and MLflow), peak memory, and the stage's ratio to the
issue's target.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark_workflow import ROOT, fresh_project, kedro_run  # noqa: E402

TARGETS = {"base": 15.0, "home_credit": 120.0}
"""Issue 16: the report takes <= 15 s on the default data, <= 2 min at 307k applicants."""


def linked_project(source: Path, where: Path) -> Path:
    """This checkout's conf/ and code over ``source``'s data and tracking store."""
    project = where / "project"
    shutil.copytree(ROOT / "conf", project / "conf", ignore=shutil.ignore_patterns("local"))
    (project / "conf" / "local").mkdir()
    shutil.copy(ROOT / "pyproject.toml", project)
    (project / "src").mkdir()
    for name in ("data", "mlruns"):
        (project / name).symlink_to(source.resolve() / name)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a project whose workflow has run")
    parser.add_argument("--env", default="base", help="its configuration environment")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        if args.project:
            project = linked_project(args.project, Path(tmp))
            kedro_run(project, "data_processing", env=args.env)
        else:
            project = fresh_project(Path(tmp))
            kedro_run(project, env=args.env)
        seconds, peak_gb = kedro_run(project, "validation", env=args.env)
        stage = pd.read_csv(project / "data/08_reporting/stage_timings.csv").set_index(
            "stage").loc["validation"]
        report = project / "data/08_reporting/validation"
        challenger = pd.read_json(report / "validation_report.json")["tables"]["challenger"]
        rows = len(pd.read_parquet(project / "data/05_model_input/model_input_train.parquet",
                                   columns=[]))
    target = TARGETS.get(args.env, TARGETS["base"])
    table = pd.DataFrame([{"data": str(args.project or "default (German)"),
                           "training rows": rows, "validation stage s": stage["seconds"],
                           "kedro run wall s": seconds, "peak_memory_gb": peak_gb,
                           "target_s": target, "ratio_to_target": stage["seconds"] / target}])
    print("kedro run --pipelines validation:")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    print(pd.DataFrame(challenger).to_markdown(index=False, floatfmt=".4f"))


if __name__ == "__main__":
    main()
