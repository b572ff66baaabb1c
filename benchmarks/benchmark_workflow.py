"""Time the whole default workflow (`kedro run`) and each pipeline of it, from a clean state.

A plain script, not a test: run it from the project root on an otherwise idle machine,

    python benchmarks/benchmark_workflow.py [--per-pipeline] [--before GIT_REF]

It copies conf/ and data/01_raw/ into a temporary project with its own MLflow database
and Optuna journal (nothing of yours is touched or reused), times one full `kedro run`,
and with --per-pipeline also times each pipeline run alone in order. It then prints the
cut-off decision the run produced (test set: expected cost per applicant at 0.5 and at
the chosen cut-off).

--before times the same workflow at an earlier commit (its src/, conf/base/ and data, in a
temporary project, with this environment's packages) in the same session, so the two
times compare code, not machines: e.g. ``--before d1496d3``, the last commit before
issue 15 (whose stated anchor was "about 110 s").
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


def project_at(ref: str, where: Path) -> Path:
    """A fresh project holding commit ``ref``'s code, configuration and raw data."""
    project = where / "project"
    project.mkdir()
    archive = subprocess.run(["git", "archive", "--format=tar", ref, "src", "conf/base",
                              "data/01_raw", "pyproject.toml"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(project)], input=archive, check=True)
    (project / "conf" / "local").mkdir()
    (project / "mlruns").mkdir()
    return project


def kedro_run(project: Path, *pipelines: str, env: str = "base") -> tuple[float, float]:
    """Wall seconds and peak memory (GB, the largest process) of one `kedro run` in ``project``.

    The project's own src/ comes first on the path, so an earlier commit runs its own code.
    """
    command = [sys.executable, "-m", "kedro", "run", "--env", env]
    if pipelines:
        command += ["--pipelines", ",".join(pipelines)]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=project, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE,
                               env={**os.environ, "KEDRO_DISABLE_TELEMETRY": "1",
                                    "PYTHONPATH": str(project / "src")})
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        sys.exit(f"kedro run failed in {project}:\n{stderr.decode()[-3000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-pipeline", action="store_true")
    parser.add_argument("--before", metavar="GIT_REF",
                        help="also time the workflow at this earlier commit, as the anchor")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        project = fresh_project(Path(tmp))
        seconds, peak_gb = kedro_run(project)
        rows.append({"workflow": "this checkout", "seconds": seconds, "peak_memory_gb": peak_gb})
        decisions = pd.read_csv(project / "data/08_reporting/thresholding/decision.csv")
        ranking = pd.read_csv(project / "data/08_reporting/thresholding/candidate_ranking.csv")
    if args.before:
        with tempfile.TemporaryDirectory() as tmp:
            seconds, peak_gb = kedro_run(project_at(args.before, Path(tmp)))
            rows.append({"workflow": f"at {args.before}", "seconds": seconds,
                         "peak_memory_gb": peak_gb})
    table = pd.DataFrame(rows)
    table["ratio_to_anchor"] = table["seconds"] / table["seconds"].iloc[-1]
    print("kedro run, the whole workflow from fresh stores:")
    print(table.to_markdown(index=False, floatfmt=".2f"))
    print(ranking[["rank", "candidate", "cv_roc_auc_mean"]].head(4).to_markdown(
        index=False, floatfmt=".4f"))
    print(decisions[["cut-off rule", "cutoff", "approval_rate", "bad_rate_approved",
                     "expected_cost", "cost_saving_pct"]].to_markdown(index=False, floatfmt=".3f"))
    if args.per_pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            project = fresh_project(Path(tmp))
            for pipeline in WORKFLOW:
                seconds, _ = kedro_run(project, pipeline)
                print(f"kedro run --pipelines {pipeline}: {seconds:.1f}s")


if __name__ == "__main__":
    main()
