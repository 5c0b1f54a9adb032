"""Published reports in a real browser: headless Chromium via Python Playwright.

Each page must load with no failed request, no request to anything but the file itself and
embedded ``data:`` resources, and no console error; a screenshot of each is saved. Uses
Debian's ``chromium`` (installed with apt-get when running as root; skipped otherwise) and
never ``playwright install``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from runner_fixtures import FIXTURE_NOTEBOOKS, FIXTURE_PARAMS

from attendance_lib.runner import run_all

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]

pytestmark = pytest.mark.slow


def ensure_chromium() -> Path:
    """Debian's chromium: found, installed with apt-get (as root), or the test is skipped."""
    if CHROMIUM.exists():
        return CHROMIUM
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False, capture_output=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"],
            env=env,
            check=False,
            capture_output=True,
        )
        if CHROMIUM.exists():
            return CHROMIUM
    pytest.skip(
        "no /usr/bin/chromium and it cannot be installed here (needs root and apt-get): "
        "run `apt-get install -y chromium` to enable the browser test"
    )


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright not installed")
    executable = ensure_chromium()
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def fixture_reports(tmp_path_factory) -> Path:
    """Run the good and restricted fixture reports; return the reports folder."""
    root = tmp_path_factory.mktemp("browser_project")
    shutil.copytree(FIXTURE_NOTEBOOKS, root / "notebooks")
    (root / "params").mkdir()
    for name in ("good", "leak_restricted"):
        shutil.copy(FIXTURE_PARAMS / f"{name}.yaml", root / "params")
    run_all(root / "params", reports_dir=root / "reports", workers=2, progress=False)
    return root / "reports"


def _pages(reports: Path) -> list[Path]:
    return sorted(
        p for p in reports.rglob("*.html") if not any(part.startswith(".") for part in p.parts)
    )


def _check_page(browser, page_path: Path, screenshot: Path) -> None:
    page = browser.new_page()
    failed, errors, foreign = [], [], []
    page.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "request",
        lambda r: None if r.url.startswith(("file://", "data:")) else foreign.append(r.url),
    )
    page.goto(page_path.as_uri(), wait_until="load")
    screenshot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(screenshot), full_page=True)
    images_ok = page.evaluate(
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    )
    page.close()
    assert not failed, f"{page_path.name}: failed requests {failed}"
    assert not foreign, f"{page_path.name}: requests to other hosts {foreign}"
    assert not errors, f"{page_path.name}: console errors {errors}"
    assert images_ok, f"{page_path.name}: an image did not render"
    assert screenshot.stat().st_size > 1000


def test_fixture_reports_render_cleanly(browser, fixture_reports, tmp_path_factory):
    pages = _pages(fixture_reports)
    names = {p.name for p in pages}
    assert {"index.html", "good.html", "leak.html"} <= names
    shots = tmp_path_factory.mktemp("screenshots")
    for page_path in pages:
        shot = shots / f"{page_path.relative_to(fixture_reports).as_posix().replace('/', '__')}.png"
        _check_page(browser, page_path, shot)
    print(f"screenshots in {shots}")


def test_project_reports_render_cleanly(browser, project_reports, tmp_path_factory):
    """Every report of the project (params/*.yaml run on a small synthetic LA) and the index."""
    reports, _ = project_reports
    pages = _pages(reports)
    assert any(p.name == "index.html" for p in pages)
    shots = tmp_path_factory.mktemp("project_screenshots")
    for page_path in pages:
        name = page_path.relative_to(reports).as_posix().replace("/", "__")
        _check_page(browser, page_path, shots / f"{name}.png")
    print(f"screenshots in {shots}")


def test_browser_check_fails_on_a_bad_page(browser, tmp_path):
    """The check can fail: an external image and a script error are both caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body>'
        '<img src="https://example.invalid/x.png" alt="x">'
        "<script>console.error('boom')</script></body></html>"
    )
    with pytest.raises(AssertionError, match="example.invalid"):
        _check_page(browser, bad, tmp_path / "bad.png")
