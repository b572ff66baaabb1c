"""The notebooks and the kedro-viz DAG work against the real project and its real results."""

import json
import re
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

from .conftest import PROJECT_ROOT

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
FIGURES = {
    "01_data_preparation": "distributions_by_class.png",
    "02_mlflow_experiments": "baseline_comparison.png",
    "03_model_comparison": "model_comparison_roc.png",
    "04_hyperparameter_optimization": "cost_curve.png",
}


def test_the_four_notebooks_are_committed_without_outputs():
    assert [n.name for n in NOTEBOOKS] == [
        "01_data_preparation.ipynb", "02_mlflow_experiments.ipynb",
        "03_model_comparison.ipynb", "04_hyperparameter_optimization.ipynb",
    ]
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        code = [cell for cell in notebook.cells if cell.cell_type == "code"]
        assert all(cell.outputs == [] and cell.execution_count is None for cell in code), (
            f"{path.name} has outputs; strip them: "
            "jupyter nbconvert --clear-output --inplace notebooks/*.ipynb"
        )
        assert "%load_ext kedro.ipython" in code[0].source  # the project, not a copy of its code


@pytest.mark.integration
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom_on_the_default_run(default_run, path):
    notebook = nbformat.read(default_run / "notebooks" / path.name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(default_run / "notebooks")}}).execute()
    errors = [out for cell in notebook.cells for out in cell.get("outputs", [])
              if out.get("output_type") == "error"]
    assert errors == []
    # figures are drawn, not printed as "<Figure size ...>" (a file-only backend would)
    results = [out.get("data", {}) for cell in notebook.cells for out in cell.get("outputs", [])]
    figures = [data for data in results  # (kedro's IPython extension colours the text)
               if "Figure size" in re.sub(r"\x1b\[[0-9;]*m", "", data.get("text/plain", ""))]
    assert figures and all("image/png" in data for data in figures)
    # each notebook writes its key figure through the catalog
    figure = default_run / "data/08_reporting/notebooks" / FIGURES[path.stem]
    assert figure.stat().st_size > 0


@pytest.mark.integration
def test_kedro_viz_build_lists_every_pipeline_and_node_by_layer(default_run):
    subprocess.run([sys.executable, "-m", "kedro", "viz", "build", "--include-previews"],
                   cwd=default_run, check=True, capture_output=True)
    api = default_run / "build" / "api"
    main = json.loads((api / "main").read_text())
    # the DAG reads raw -> reporting: layers are ordered, with no cycle between them
    assert main["layers"] == ["raw", "primary", "feature", "model_input", "models",
                              "model_output", "reporting", "registry"]

    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(default_run)
    from credit_scoring.pipeline_registry import register_pipelines  # noqa: PLC0415

    registered = register_pipelines()
    assert {p["id"] for p in main["pipelines"]} == set(registered)
    for name, pipeline in registered.items():
        shown = json.loads((api / "pipelines" / name).read_text())
        tasks = {n["full_name"] for n in shown["nodes"] if n["type"] == "task"}
        assert tasks == {node.name for node in pipeline.nodes}, name
    # datasets carry their layer and a preview (table or figure)
    nodes = {n["name"]: n for n in main["nodes"]}
    assert nodes["model_input_train"]["layer"] == "model_input"
    assert nodes["applicant_features"]["layer"] == "primary"
    preview = json.loads((api / "nodes" / nodes["model_comparison.roc_curves_plot"]["id"]).read_text())
    assert preview["preview_type"] == "ImagePreview"
    table = json.loads((api / "nodes" / nodes["model_input_train"]["id"]).read_text())
    assert table["preview_type"] == "TablePreview"
    assert (default_run / "build" / "index.html").exists()


def test_kedro_jupyter_is_documented_with_its_install_step():
    guide = (PROJECT_ROOT / "docs" / "development.md").read_text()
    assert 'pip install -e ".[notebooks]"' in guide and "kedro jupyter lab" in guide


def test_every_pipeline_has_its_kedro_viz_picture_in_the_docs():
    from kedro.framework.startup import bootstrap_project  # noqa: PLC0415

    bootstrap_project(PROJECT_ROOT)
    from credit_scoring.pipeline_registry import register_pipelines  # noqa: PLC0415

    guide = (PROJECT_ROOT / "docs" / "development.md").read_text()
    for name in register_pipelines():  # docs/pictures.py took one picture per pipeline
        picture = "kedro-viz.png" if name == "__default__" else f"kedro-viz-{name}.png"
        assert (PROJECT_ROOT / "docs" / picture).exists(), picture
        assert f"]({picture})" in guide, picture
