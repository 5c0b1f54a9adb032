"""Reports built on hostile names, opened in a real browser: no script runs (issue 13).

Headless Debian Chromium through Python Playwright (``executable_path=shutil.which("chromium")``,
never ``playwright install``); skipped when either is missing.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_fixtures import SCRIPT_PAYLOADS, write_hostile_la
from runner_fixtures import FIXTURE_NOTEBOOKS, FIXTURE_PARAMS

from attendance_lib.runner import publish, run_all

pytestmark = pytest.mark.slow
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
#: Set by every payload's script; also any dialog (alert) counts as a script that ran.
PROBE = "window.__pwned === 1"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Python Playwright not installed")
    executable = shutil.which("chromium")
    if not executable:
        pytest.skip("no chromium: apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def hostile_reports(tmp_path_factory) -> Path:
    """The hostile fixture report (school names, localities, officers and la_name are
    payloads) and a per-school fan-out over the same names, with the index."""
    root = tmp_path_factory.mktemp("hostile_project")
    shutil.copytree(FIXTURE_NOTEBOOKS, root / "notebooks")
    (root / "params").mkdir()
    for name in ("hostile", "school"):
        shutil.copy(FIXTURE_PARAMS / f"{name}.yaml", root / "params")
    write_hostile_la(root / "data" / "la")
    run_all(root / "params", reports_dir=root / "reports", workers=2, progress=False)
    return root / "reports"


def _open(browser, path: Path) -> dict:
    page = browser.new_page()
    dialogs, errors = [], []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_timeout(300)  # let any onerror / onload handler fire
    result = {
        "pwned": page.evaluate(PROBE),
        "dialogs": dialogs,
        "errors": errors,
        "javascript_links": page.evaluate(
            "Array.from(document.querySelectorAll('[href],[src],[action],[formaction]'))"
            ".map(e => e.getAttribute('href') || e.getAttribute('src') || e.getAttribute('action')"
            " || e.getAttribute('formaction') || '')"
            ".filter(u => u.replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase()"
            ".startsWith('javascript:'))"
        ),
        "scripts": page.evaluate("document.scripts.length"),
        "text": page.evaluate("document.body.innerText"),
        "styled": page.evaluate(
            "getComputedStyle(document.body).fontFamily.toLowerCase().includes('arial')"
        ),
        "images_ok": page.evaluate(
            "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
        ),
    }
    page.close()
    return result


def test_no_script_runs_in_reports_built_on_hostile_names(browser, hostile_reports):
    pages = sorted(
        p for p in hostile_reports.rglob("*.html") if not any(x.startswith(".") for x in p.parts)
    )
    names = {p.name for p in pages}
    assert {"index.html", "hostile.html", "school.html"} <= names, names
    for path in pages:
        seen = _open(browser, path)
        where = path.relative_to(hostile_reports)
        assert seen["pwned"] is False, where
        assert seen["dialogs"] == [], where
        assert seen["javascript_links"] == [], where
        assert seen["scripts"] == 0, where
        assert seen["errors"] == [], (where, seen["errors"])
        assert seen["images_ok"], where
    hostile = _open(browser, hostile_reports / "hostile" / "hostile.html")
    for payload in SCRIPT_PAYLOADS:
        assert payload in hostile["text"]  # shown to the reader as text
    assert hostile["styled"]  # the inline stylesheet still applies under the policy


def test_the_policy_alone_stops_an_injected_handler(browser, tmp_path):
    """Defence in depth: were a payload ever to reach the page as HTML, the CSP blocks it."""
    base = publish.add_content_security_policy(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>t</title></head><body>"
        + "".join(SCRIPT_PAYLOADS[:2])
        + "<script>window.__pwned = 1</script></body></html>"
    )
    path = tmp_path / "injected.html"
    path.write_text(base)
    seen = _open(browser, path)
    assert seen["pwned"] is False and seen["dialogs"] == []
    assert any("Content Security Policy" in e for e in seen["errors"])  # blocked, and said so
    # without the policy the same page does run the payload: the check can fail
    path.write_text(base.replace("Content-Security-Policy", "x-no-policy"))
    assert _open(browser, path)["pwned"] is True
