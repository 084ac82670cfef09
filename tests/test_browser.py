"""The app in a real browser: `deepfake-dct app` on a free localhost port, driven by headless Chromium.

Uploads two bundled samples through the page, waits for each verdict, and takes a screenshot of the
page under the test's tmp_path. With ``DEEPFAKE_DCT_UPDATE_SCREENSHOT=1`` it also copies it over the
one the README shows, docs/streamlit.png; otherwise the suite leaves every tracked file as it was::

    DEEPFAKE_DCT_UPDATE_SCREENSHOT=1 .venv/bin/pytest -m slow tests/test_browser.py

Debian's Chromium (`apt-get install chromium`) is driven by the Playwright Python package; the
browser may talk to localhost only (anything else is blocked, and fails the test).
``benchmarks/bench_app.py`` times uploads with the same helpers.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "apps" / "samples"
SCREENSHOT = ROOT / "docs" / "streamlit.png"
#: Set to 1 to copy the new screenshot over SCREENSHOT (the only write into the repository).
UPDATE_SCREENSHOT = "DEEPFAKE_DCT_UPDATE_SCREENSHOT"
CHROMIUM = Path("/usr/bin/chromium")
#: Headless as root in a container, and quiet: no network traffic of Chromium's own.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
START_TIMEOUT_S = 90
VERDICT_TIMEOUT_MS = 60_000


def browser_missing() -> str:
    """Why the browser cannot run here, or "" when it can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not found: install Debian's chromium (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app() -> Iterator[str]:
    """`deepfake-dct app` on a free localhost port; yields its URL once it answers."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "deepfake_dct.cli", "app", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://localhost:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited with {process.returncode}: {process.stdout.read()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app did not answer at {url} within {START_TIMEOUT_S} s")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def chromium_page():
    """A page in headless Chromium that may reach localhost only; ``page.outside_requests`` lists
    what it tried to fetch from anywhere else (all blocked)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.outside_requests = []

            def localhost_only(route):
                if urlparse(route.request.url).hostname in ("localhost", "127.0.0.1"):
                    route.continue_()
                else:
                    page.outside_requests.append(route.request.url)
                    route.abort()

            page.route("**/*", localhost_only)
            yield page
        finally:
            browser.close()


def open_app(page, url: str) -> None:
    page.goto(url)
    page.get_by_text("Real or GAN-generated?").wait_for(timeout=VERDICT_TIMEOUT_MS)


def upload(page, paths: list[Path]) -> None:
    page.locator(".st-key-images input[type=file]").set_input_files([str(p) for p in paths])


def wait_for_verdict(page, index: int, label: str) -> None:
    """Until the index-th result shows the verdict ("Real" or "Fake") as its heading."""
    heading = page.locator(f".st-key-result-{index} h3")
    heading.get_by_text(label, exact=True).wait_for(timeout=VERDICT_TIMEOUT_MS)


@pytest.mark.slow
def test_browser_samples_uploaded_verdicts_appear_and_screenshot_saved(detector, tmp_path):
    """The screenshot goes to tmp_path; DEEPFAKE_DCT_UPDATE_SCREENSHOT=1 also copies it to
    docs/streamlit.png (the README's picture), the only way this test writes into the repository."""
    if reason := browser_missing():
        pytest.skip(reason)
    files = [SAMPLES / "real_camera_nikon-e995.png", SAMPLES / "fake_stylegan2_0131.png"]
    expected = [detector.detect(path).label.capitalize() for path in files]
    screenshot = tmp_path / SCREENSHOT.name

    with running_app() as url, chromium_page() as page:
        open_app(page, url)
        upload(page, files)
        for index, (path, label) in enumerate(zip(files, expected)):
            page.locator(f".st-key-result-{index}").get_by_text(path.name, exact=True).wait_for()
            wait_for_verdict(page, index, label)
        page.locator(".st-key-results").get_by_text("Download as CSV").wait_for()
        # Streamlit scrolls inside its main block, not the page: grow the window to show all of it.
        height = page.evaluate("() => document.querySelector('[data-testid=stMain]').scrollHeight")
        page.set_viewport_size({"width": VIEWPORT["width"], "height": height})
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshot))
        outside = page.outside_requests

    assert screenshot.stat().st_size > 10_000
    assert outside == []
    if os.environ.get(UPDATE_SCREENSHOT) == "1":
        shutil.copyfile(screenshot, SCREENSHOT)
