"""Take the kedro-viz pictures of docs/: one per pipeline, at a readable zoom.

From the root of a project that has run (`make run`, so datasets have previews):

    python docs/pictures.py [pipeline ...]      # default: every registered pipeline

builds kedro-viz's static site (`kedro viz build`), serves it on 127.0.0.1 and photographs
each pipeline in headless Chromium (Debian's `chromium`), light theme, modular pipelines
expanded, fitted to the window: docs/kedro-viz-<pipeline>.png, and the whole workflow with
one box per stage: docs/kedro-viz.png. The MLflow picture
(docs/mlflow-candidates.png) is the one tests/test_mlflow_ui.py takes of the default run.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).parent
VIEWPORT = {"width": 1400, "height": 1300}
READABLE = 90  # % zoom at the fit; a last zoom-out step (x0.8) leaves a margin
OVERVIEW = "__default__"


def picture_name(pipeline: str) -> str:
    return "kedro-viz.png" if pipeline == OVERVIEW else f"kedro-viz-{pipeline}.png"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
        pass


def zoom(page) -> int:
    return int(page.get_by_text(re.compile(r"^\d+%$")).inner_text().rstrip("%"))


def fit(page) -> None:
    """Fit the DAG to the window; if that leaves it below READABLE, make the window as large
    as the DAG needs at READABLE (a bigger picture, its text as large as in the others)."""
    page.get_by_label("Reset zoom").click()
    page.wait_for_timeout(3000)  # the zoom animates
    if zoom(page) >= READABLE:
        return
    graph = page.locator(".pipeline-flowchart__nodes").bounding_box()
    grow = READABLE / zoom(page)
    size = page.viewport_size
    page.set_viewport_size({"width": max(size["width"], int(graph["width"] * grow) + 500),
                            "height": max(size["height"], int(graph["height"] * grow) + 300)})
    page.get_by_label("Reset zoom").click()
    page.wait_for_timeout(3000)


def photograph(site: Path, pipelines: list[str]) -> None:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"),
                                             args=["--no-sandbox"])
        for pipeline in pipelines:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"http://127.0.0.1:{server.server_port}/?pid={pipeline}")
            page.wait_for_timeout(3000)
            while page.get_by_role("button", name="Next").count():  # the onboarding tour
                page.get_by_role("button", name="Next").click()
            if page.get_by_role("button", name="Close").count():
                page.get_by_role("button", name="Close").click()
            for label in ("Change to light theme", "Hide menu", "Turn minimap off",
                          "Expand all modular pipelines"):
                if label.startswith("Expand") and pipeline == OVERVIEW:
                    continue  # the whole workflow: one box per stage
                if page.get_by_label(label).count():
                    page.get_by_label(label).click()
                    page.wait_for_timeout(500)
            fit(page)
            page.get_by_label("Zoom out").click()  # a margin: kedro-viz's fit cuts long labels
            page.wait_for_timeout(1500)
            page.mouse.move(1, 1)  # no tooltip of the last button clicked
            picture = DOCS / picture_name(pipeline)
            page.screenshot(path=str(picture))
            print(f"{picture}: {zoom(page)} % zoom")  # noqa: T201
            page.close()
        browser.close()
    server.shutdown()


def main(pipelines: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "kedro", "viz", "build", "--include-previews"],
                   check=True)
    site = Path("build")
    shown = json.loads((site / "api" / "main").read_text())["pipelines"]
    photograph(site, pipelines or [p["id"] for p in shown])


if __name__ == "__main__":
    main(sys.argv[1:])
