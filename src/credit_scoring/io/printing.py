"""The validation report on paper: an A4 PDF beside the HTML, printed by headless Chromium.

Chromium is the PDF engine because the project's browser tests need it anyway (the
Debian package ``chromium``; ``.ci/run`` installs it) and it prints the page exactly as a
reader's browser shows it, print stylesheet included. Without it the HTML is all there
is, and the caller says how to get the PDF.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENGINE_ENV = "CREDIT_SCORING_PDF_BROWSER"
"""A browser binary to print with, instead of the first of ``BROWSERS`` on PATH; ``none``
turns printing off."""
HOW_TO = ("install Chromium (Debian/Ubuntu: apt-get install -y chromium) or point "
          f"{ENGINE_ENV} at a Chrome/Chromium binary, then rerun "
          "`kedro run --pipelines validation`; or open the HTML and print it to PDF")


def browser() -> str | None:
    chosen = os.environ.get(ENGINE_ENV)
    if chosen:
        return None if chosen == "none" else shutil.which(chosen) or chosen
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


def print_pdf(page: Path, pdf: Path, timeout: float = 180) -> str | None:
    """Print ``page`` (an HTML file) to ``pdf``; None when done, else why not."""
    binary = browser()
    if binary is None:
        return "no Chromium found"
    with tempfile.TemporaryDirectory() as profile:
        try:
            subprocess.run(
                [binary, "--headless", "--no-sandbox", "--disable-gpu",
                 "--no-pdf-header-footer", f"--user-data-dir={profile}",
                 f"--print-to-pdf={pdf.resolve()}", page.resolve().as_uri()],
                capture_output=True, timeout=timeout, check=True)
        except (OSError, subprocess.SubprocessError) as error:
            return f"{binary} failed: {error}"
    return None if pdf.exists() and pdf.stat().st_size > 0 else f"{binary} wrote no PDF"
