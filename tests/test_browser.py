"""Published reports in a real browser: headless Chromium via Python Playwright.

Each page must load with no failed request, no request to anything but the file itself and
embedded ``data:`` resources, and no console error; a screenshot of each is saved. Uses
Debian's ``chromium`` (installed with apt-get when running as root; skipped otherwise) and
never ``playwright install``.

Then, what a reader sees, asserted in headless Chromium, on one report of each type.

Runs on ``project_reports`` (every ``params/*.yaml`` run once on a small synthetic LA; the
fixture fails loudly if any report fails). For every page, as Chromium lays it out:

- every section heading (h2, h3) is visible: a box of non-zero size, not hidden by CSS, not
  clipped away by an ancestor;
- every contents link, clicked, brings a visible heading into the viewport;
- no table is wider than the reading column at 1366 px; on a phone (390 px) the page never
  scrolls sideways and a wide table scrolls inside a labelled, keyboard-focusable region;
- printed on A4, no table is wider than the sheet, and a restricted report (a school's pack)
  carries OFFICIAL-SENSITIVE (OFFICIAL) at the top and foot of every printed page;
- the visible text of a public page names no file and holds no snake_case identifier.

Screenshots at 1366 and 390 px are saved (the path is printed) for a person to look at.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from runner_fixtures import FIXTURE_NOTEBOOKS, FIXTURE_PARAMS, PROJECT_PARAMS_DIR

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


def _screenshot(page, path: Path) -> None:
    """A full-page screenshot. Chromium sometimes refuses one on a loaded machine ("Unable to
    capture screenshot", a protocol error, not the page's); try again once, then take the
    viewport, so the checks below still decide."""
    from playwright.sync_api import Error

    for attempt in range(2):
        try:
            page.screenshot(path=str(path), full_page=True)
            return
        except Error:
            page.wait_for_timeout(500 * (attempt + 1))
    page.screenshot(path=str(path))


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
    _screenshot(page, screenshot)
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


DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
#: A4 less the print stylesheet's 10 mm side margins, in CSS pixels (96 per inch).
A4_CONTENT_PX = round((210 - 20) / 25.4 * 96)
#: Internal names a reader must never see.
INTERNAL_NAMES = (
    re.compile(r"\b[a-z]+_[a-z_]+\b"),
    re.compile(r"\.csv\b"),
    re.compile(r"\.yaml\b"),
    re.compile(r"\.parquet\b"),
)
MARKINGS = {"restricted": "OFFICIAL-SENSITIVE", "school": "OFFICIAL"}

_HIDDEN_HEADINGS_JS = """
() => {
  const problems = [];
  for (const h of document.querySelectorAll('main h2, main h3')) {
    const r = h.getBoundingClientRect();
    const style = getComputedStyle(h);
    const name = h.tagName + ' "' + h.textContent.trim().slice(0, 60) + '"';
    if (r.width === 0 || r.height === 0) { problems.push(name + ': no box'); continue; }
    if (!h.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
        || style.visibility !== 'visible') { problems.push(name + ': hidden'); continue; }
    for (let a = h.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const b = a.getBoundingClientRect();
      if (r.bottom <= b.top || r.top >= b.bottom || r.right <= b.left || r.left >= b.right) {
        problems.push(name + ': clipped by ' + a.tagName + '.' + a.className);
        break;
      }
    }
  }
  return problems;
}
"""

_WIDE_TABLES_JS = """
(limit) => {
  const problems = [];
  const main = document.querySelector('main');
  if (main.scrollWidth > main.clientWidth + 1)
    problems.push('the reading column scrolls sideways: ' + main.scrollWidth + ' > ' + main.clientWidth);
  for (const t of document.querySelectorAll('main table')) {
    const wrap = t.closest('.aw-table-wrap') || t.parentElement;
    const caption = (t.caption ? t.caption.textContent : 'a table').trim().slice(0, 70);
    const width = Math.ceil(t.getBoundingClientRect().width);
    if (width > Math.min(limit, main.clientWidth) + 1 || wrap.scrollWidth > wrap.clientWidth + 1)
      problems.push(caption + ': ' + Math.max(width, wrap.scrollWidth) + ' px wide in '
                    + Math.min(limit, main.clientWidth, wrap.clientWidth) + ' px');
  }
  return problems;
}
"""

_PHONE_JS = """
() => {
  const problems = [];
  const page = document.documentElement;
  if (page.scrollWidth > page.clientWidth + 1)
    problems.push('the page scrolls sideways: ' + page.scrollWidth + ' > ' + page.clientWidth);
  for (const t of document.querySelectorAll('main table.aw-table')) {
    const wrap = t.closest('.aw-table-wrap');
    const caption = (t.caption ? t.caption.textContent : 'a table').trim().slice(0, 70);
    if (!wrap) { problems.push(caption + ': no wrapper'); continue; }
    if (wrap.getBoundingClientRect().right > page.clientWidth + 1)
      problems.push(caption + ': its region is wider than the screen');
    if (wrap.scrollWidth <= wrap.clientWidth + 1) continue;  // fits: nothing to scroll
    const s = getComputedStyle(wrap);
    if (!['auto', 'scroll'].includes(s.overflowX)) problems.push(caption + ': cannot scroll');
    if (wrap.getAttribute('role') !== 'region' || !wrap.getAttribute('aria-label'))
      problems.push(caption + ': scroll region not labelled');
    if (wrap.tabIndex !== 0) problems.push(caption + ': scroll region not focusable');
  }
  return problems;
}
"""


def _page_map(reports: Path) -> dict[str, Path]:
    """Every published page by its path under the reports folder."""
    return {
        p.relative_to(reports).as_posix(): p
        for p in sorted(reports.rglob("*.html"))
        if not any(part.startswith((".", "_")) for part in p.relative_to(reports).parts)
    }


def _audience(page) -> str:
    classes = page.evaluate("document.body.className") or ""
    found = re.search(r"aw-audience-(\w+)", classes)
    return found.group(1) if found else "index"


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reading_screenshots")
    print(f"screenshots in {folder}")
    return folder


@pytest.fixture(scope="module")
def pages(project_reports) -> dict[str, Path]:
    reports, _ = project_reports
    return _page_map(reports)


def test_one_page_per_report_and_separate_indexes(project_reports, pages):
    """Every params file gave a page; restricted ones only under restricted/, with their index."""
    reports, outcome = project_reports
    expected = {"index.html", "restricted/index.html"}
    for report in outcome.reports:
        for unit in report.units:
            expected.add(unit.html.relative_to(reports).as_posix())
            if report.restricted:
                assert unit.html.relative_to(reports).parts[0] == "restricted", unit.label
    assert set(pages) == expected
    assert len(outcome.reports) == len(list(PROJECT_PARAMS_DIR.glob("*.yaml")))
    public_index = (reports / "index.html").read_text()
    assert "restricted/" not in public_index and "OFFICIAL-SENSITIVE" not in public_index


def _open(browser, path: Path, viewport: dict[str, int]):
    page = browser.new_page(viewport=viewport)
    page.goto(path.as_uri(), wait_until="load")
    return page


def test_headings_are_visible_and_contents_links_land_on_them(browser, pages, screenshots):
    problems = {}
    for name, path in pages.items():
        page = _open(browser, path, DESKTOP)
        found = page.evaluate(_HIDDEN_HEADINGS_JS)
        if name.endswith("index.html") is False:
            headings = page.locator("main h2, main h3").count()
            if headings < 2:
                found.append(f"only {headings} section heading(s): are Markdown cells shown?")
        _screenshot(page, screenshots / f"{name.replace('/', '__')}-1366.png")
        links = page.locator("nav#aw-toc a")
        for n in range(links.count()):
            link = links.nth(n)
            target = link.get_attribute("href")[1:]
            link.click()
            landed = page.evaluate(
                """(id) => {
                  const el = document.getElementById(id);
                  if (!el || !['H2', 'H3'].includes(el.tagName)) return 'no heading ' + id;
                  const r = el.getBoundingClientRect();
                  if (r.width === 0 || r.height === 0 || !el.checkVisibility()) return 'hidden ' + id;
                  if (r.top < 0 || r.bottom > innerHeight) return 'not in view ' + id;
                  return '';
                }""",
                target,
            )
            if landed:
                found.append(f"contents link {link.inner_text()!r}: {landed}")
        page.close()
        if found:
            problems[name] = found
    assert not problems, problems


def test_tables_fit_the_page_at_1366_px(browser, pages):
    problems = {}
    for name, path in pages.items():
        page = _open(browser, path, DESKTOP)
        found = page.evaluate(_WIDE_TABLES_JS, DESKTOP["width"])
        page.close()
        if found:
            problems[name] = found
    assert not problems, problems


def test_on_a_phone_tables_scroll_inside_labelled_focusable_regions(browser, pages, screenshots):
    problems = {}
    for name, path in pages.items():
        page = _open(browser, path, PHONE)
        found = page.evaluate(_PHONE_JS)
        _screenshot(page, screenshots / f"{name.replace('/', '__')}-390.png")
        page.close()
        if found:
            problems[name] = found
    assert not problems, problems


def test_printed_tables_fit_an_a4_sheet(browser, pages):
    problems = {}
    for name, path in pages.items():
        page = _open(browser, path, {"width": A4_CONTENT_PX, "height": 1000})
        page.emulate_media(media="print")
        found = page.evaluate(_WIDE_TABLES_JS, A4_CONTENT_PX)
        page.close()
        if found:
            problems[name] = found
    assert not problems, problems


def visible_internal_names(text: str) -> list[str]:
    """snake_case tokens and file names in a page's visible text."""
    return sorted({m.group(0) for pattern in INTERNAL_NAMES for m in pattern.finditer(text)})


def test_internal_name_check_can_fail():
    assert visible_internal_names("Weeks before (weeks_before); read pupils.csv") == [
        ".csv",
        "weeks_before",
    ]
    assert visible_internal_names("Persistent absence (%) in 2024/25: 17.8") == []


def test_public_pages_show_no_internal_names(browser, pages):
    found = {}
    for name, path in pages.items():
        page = _open(browser, path, DESKTOP)
        if _audience(page) in {"public", "index"} and not name.startswith("restricted/"):
            tokens = visible_internal_names(page.evaluate("document.body.innerText"))
            if tokens:
                found[name] = tokens
        page.close()
    assert not found, found


def pdf_pages(browser, path: Path) -> list[str]:
    """Print ``path`` to A4 as Chromium does and return each sheet's text (pypdf).

    Also the helper for a page-count limit, e.g. ``len(pdf_pages(browser, termly)) <= 15``.
    """
    pypdf = pytest.importorskip("pypdf", reason="pypdf (a dev dependency) is not installed")
    page = browser.new_page()
    page.goto(path.as_uri(), wait_until="load")
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    return [sheet.extract_text() or "" for sheet in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def marking_bands(browser, path: Path, marking: str) -> list[tuple[bool, bool]]:
    """For each printed sheet: is ``marking`` the topmost and the bottommost text on it?"""
    pypdf = pytest.importorskip("pypdf", reason="pypdf (a dev dependency) is not installed")
    page = browser.new_page()
    page.goto(path.as_uri(), wait_until="load")
    pdf = page.pdf(format="A4", print_background=True)
    page.close()
    bands = []
    for sheet in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        pieces: list[tuple[float, str]] = []

        def visit(text, cm, tm, font, size, pieces=pieces):
            if text.strip():
                pieces.append((tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text.strip()))

        sheet.extract_text(visitor_text=visit)
        pieces.sort()
        bands.append(
            (pieces[-1][1] == marking, pieces[0][1] == marking) if pieces else (False, False)
        )
    return bands


def test_restricted_and_school_reports_are_marked_on_every_printed_page(browser, project_reports):
    reports, outcome = project_reports
    checked = set()
    for report in outcome.reports:
        marking = MARKINGS.get(report.audience)
        if not marking:
            continue
        for unit in report.units:
            sheets = pdf_pages(browser, unit.html)
            assert len(sheets) >= 2, f"{unit.label}: expected a report of several pages"
            unmarked = [n + 1 for n, text in enumerate(sheets) if text.count(marking) < 2]
            assert not unmarked, (
                f"{unit.label}: pages without {marking} at top and foot: {unmarked}"
            )
            bands = marking_bands(browser, unit.html, marking)
            overlapped = [n + 1 for n, (top, foot) in enumerate(bands) if not (top and foot)]
            assert not overlapped, f"{unit.label}: marking not clear of the text on {overlapped}"
            checked.add(report.audience)
    assert checked == {"restricted", "school"}
    restricted_index = reports / "restricted" / "index.html"
    assert all("OFFICIAL-SENSITIVE" in t for t in pdf_pages(browser, restricted_index))


def test_the_termly_report_prints_on_at_most_15_a4_pages(browser, pages):
    """A councillor's ten-minute read: the long per-school tables live in the workbook."""
    sheets = pdf_pages(browser, pages["termly_strategy/termly_strategy.html"])
    assert 3 <= len(sheets) <= 15, f"{len(sheets)} A4 pages"
    assert "what changed" in " ".join(sheets[:2]).lower()  # it opens with the summary


def test_the_officer_breakdown_is_restricted_and_has_intervals(project_reports):
    """Officers map almost one to one onto localities: by officer reads as personal performance."""
    reports, _ = project_reports
    public = {p.stem for p in (reports / "impact_12_week" / "tables").glob("*.csv")}
    restricted = {
        p.stem for p in (reports / "restricted" / "impact_12_week_pupils" / "tables").glob("*.csv")
    }
    assert {"impact_by_locality", "impact_by_source"} <= public
    assert "impact_by_officer" not in public and "impact_by_officer" in restricted
    officer = pd.read_csv(
        reports / "restricted" / "impact_12_week_pupils" / "tables" / "impact_by_officer.csv"
    )
    assert {"ci_low", "ci_high"} <= set(officer.columns)
