"""Time the whole default workflow (`kedro run`) and each pipeline of it, from a clean state.

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_workflow.py [--per-pipeline]

It copies conf/ and data/01_raw/ into a temporary project with its own MLflow database
and Optuna journal (nothing of yours is touched or reused), times one full `kedro run`,
and with --per-pipeline also times each pipeline run alone in order. It then prints the
cut-off decision the run produced (test set: expected cost per applicant at 0.5 and at
the chosen cut-off).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ["data_processing", "baselines", "model_comparison", "tuning", "thresholding"]


def fresh_project(where: Path) -> Path:
    project = where / "project"
    shutil.copytree(ROOT / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    shutil.copytree(ROOT / "data" / "01_raw", project / "data" / "01_raw")
    shutil.copy(ROOT / "pyproject.toml", project)
    (project / "src").mkdir()
    (project / "mlruns").mkdir()
    return project


def kedro_run(project: Path, *pipelines: str) -> float:
    command = [sys.executable, "-m", "kedro", "run"]
    if pipelines:
        command += ["--pipelines", ",".join(pipelines)]
    started = time.perf_counter()
    subprocess.run(command, cwd=project, check=True, capture_output=True,
                   env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-pipeline", action="store_true")
    per_pipeline = parser.parse_args().per_pipeline

    with tempfile.TemporaryDirectory() as tmp:
        project = fresh_project(Path(tmp))
        print(f"kedro run (whole workflow, fresh stores): {kedro_run(project):.1f}s")
        decisions = pd.read_csv(project / "data/08_reporting/thresholding/decision.csv")
        print(decisions[["cut-off rule", "cutoff", "approval_rate", "bad_rate_approved",
                         "expected_cost", "cost_saving_pct"]].to_markdown(index=False,
                                                                          floatfmt=".3f"))
    if per_pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            project = fresh_project(Path(tmp))
            for pipeline in WORKFLOW:
                print(f"kedro run --pipelines {pipeline}: {kedro_run(project, pipeline):.1f}s")


if __name__ == "__main__":
    main()
