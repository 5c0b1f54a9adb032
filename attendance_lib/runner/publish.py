"""Publishing an executed notebook: HTML, tables (CSV and XLSX), run.json, atomic move into place.

What stakeholders see is the HTML: no code, no prompts, no printed text, warnings or logging,
no bare cell values (only what the :mod:`attendance_lib.present.notebook` helpers display), with a table
of contents; it is rendered with the project's own nbconvert template
(``attendance_lib/present/templates/workbench``), which loads nothing from any other host.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import tempfile
import threading
import uuid
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import nbformat
import pandas as pd
from bs4 import BeautifulSoup
from nbconvert import HTMLExporter

from attendance_lib.present.notebook import HEADER_MIME, MARKINGS, PROVENANCE_MIME, TABLE_MIME
from attendance_lib.runner.workbook import (
    METADATA_NAME,
    WORKBOOK_NAME,
    ReportContext,
    write_metadata,
    write_workbook,
)

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "present" / "templates"
TEMPLATE_NAME = "workbench"
#: Headings that go into the table of contents.
TOC_LEVELS = ("h2", "h3")
#: Tables with this many columns or more are set smaller (class ``aw-wide``).
WIDE_TABLE_COLUMNS = 12

__all__ = ["METADATA_NAME", "WORKBOOK_NAME", "ReportContext"]


def published_tables(nb: nbformat.NotebookNode) -> list[dict[str, Any]]:
    """The table payloads (name, caption, columns, records) emitted by ``publish_table``."""
    return [
        out["data"][TABLE_MIME]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if TABLE_MIME in out.get("data", {})
    ]


def report_header(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The first header payload (title, period, audience) emitted by ``report_header``, if any."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if HEADER_MIME in out.get("data", {}):
                return out["data"][HEADER_MIME]
    return None


def provenance(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The last provenance payload emitted by ``provenance_footer``, if any."""
    found = [
        out["data"][PROVENANCE_MIME]
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if PROVENANCE_MIME in out.get("data", {})
    ]
    return found[-1] if found else None


def table_frame(payload: dict[str, Any]) -> pd.DataFrame:
    """A published table payload as a DataFrame, columns in the published order."""
    return pd.DataFrame.from_records(payload["records"], columns=payload["columns"])


def write_tables(
    nb: nbformat.NotebookNode, folder: Path, *, context: ReportContext | None = None
) -> list[Path]:
    """Write ``tables/<name>.csv`` for every published table, ``tables/metadata.csv`` and
    ``tables.xlsx`` (:mod:`attendance_lib.runner.workbook`).

    Returns the CSV paths of the tables (not the metadata file). Table names must be unique
    within a report, and no table may be called ``metadata``.
    """
    payloads = published_tables(nb)
    if not payloads:
        return []
    names = [p["name"] for p in payloads]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"table name(s) published twice: {', '.join(dupes)}")
    if f"{METADATA_NAME.removesuffix('.csv')}" in names:
        raise ValueError(f"a table may not be called {METADATA_NAME.removesuffix('.csv')!r}")
    tables_dir = folder / "tables"
    tables_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for payload in payloads:
        frame = spreadsheet_safe(table_frame(payload))
        path = tables_dir / f"{payload['name']}.csv"
        # CRLF line ends (RFC 4180), so a field holding a bare CR is quoted too
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\r\n")
        paths.append(path)
    write_metadata(payloads, tables_dir / METADATA_NAME, spreadsheet_safe_text)
    context = context or ReportContext(title=str(nb.metadata.get("title", "")), audience="public")
    write_workbook(payloads, folder / WORKBOOK_NAME, context, spreadsheet_safe_text)
    return paths


#: A text cell starting with one of these is a formula to a spreadsheet (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe_text(value: Any) -> Any:
    """A text that a spreadsheet would evaluate, prefixed with ``'``; anything else unchanged.

    Numbers are not text and stay numbers; a text that is just a number (``-3.5``) is left
    as it is, since a spreadsheet reads it as that number and nothing more.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_TRIGGERS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every formula-like text cell and header made inert (see above)."""
    out = frame.rename(columns=spreadsheet_safe_text)
    for n in range(out.shape[1]):
        if not pd.api.types.is_numeric_dtype(out.dtypes.iloc[n]):
            out.isetitem(n, out.iloc[:, n].map(spreadsheet_safe_text))
    return out


def _strip_for_html(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy keeping only display data (what the present helpers show): no streams, errors or values."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for out in cell.get("outputs", []):
            kind = out.get("output_type")
            if kind in {"stream", "error", "execute_result"}:
                continue
            if kind == "display_data":
                data = {k: v for k, v in out["data"].items() if "vnd.attendance-workbench" not in k}
                if not data:
                    continue
                out["data"] = data
            kept.append(out)
        cell["outputs"] = kept
    return nb


def add_table_of_contents(html: str) -> str:
    """Fill the template's ``<nav id="aw-toc">`` with links to the h2/h3 headings.

    The contents are moved into ``<main>``, just after the cell showing the report's title
    (``report_header``), so a reader meets the title first, then the contents.
    """
    soup = BeautifulSoup(html, "html.parser")
    _add_table_of_contents(soup)
    return str(soup)


def _add_table_of_contents(soup: BeautifulSoup) -> None:
    nav = soup.find("nav", id="aw-toc")
    main = soup.find("main")
    headings = main.find_all(TOC_LEVELS) if main else []
    if nav is None or len(headings) < 2:
        return
    title = main.find("h1")
    header_cell = title.find_parent(class_="jp-Cell") if title else None
    if header_cell is not None:
        header_cell.insert_after(nav.extract())
    else:
        main.insert(0, nav.extract())
    title = soup.new_tag("h2")
    title.string = "Contents"
    nav.append(title)
    listing = soup.new_tag("ol")
    for n, heading in enumerate(headings, 1):
        for anchor in heading.find_all("a", class_="anchor-link"):
            anchor.decompose()
        if not heading.get("id"):
            heading["id"] = f"section-{n}"
        item = soup.new_tag("li", attrs={"class": f"aw-toc-{heading.name}"})
        link = soup.new_tag("a", href=f"#{heading['id']}")
        link.string = heading.get_text(" ", strip=True)
        item.append(link)
        listing.append(item)
    nav.append(listing)


def label_table_regions(html: str) -> str:
    """Make each table's wrapper a labelled, keyboard-focusable region.

    On a narrow screen a wide table scrolls inside its wrapper (see the stylesheet); a
    keyboard user can then focus it and scroll with the arrow keys, and a screen reader
    names it by the table's caption.

    A table of :data:`WIDE_TABLE_COLUMNS` columns or more is marked ``aw-wide`` (smaller type
    and padding, so it still fits the reading column and an A4 sheet).
    """
    soup = BeautifulSoup(html, "html.parser")
    _label_table_regions(soup)
    return str(soup)


def _label_table_regions(soup: BeautifulSoup) -> None:
    for n, wrap in enumerate(soup.select("div.aw-table-wrap"), 1):
        caption = wrap.find("caption")
        label = caption.get_text(" ", strip=True) if caption else f"Table {n}"
        wrap["role"] = "region"
        wrap["aria-label"] = f"Table: {label}"
        wrap["tabindex"] = "0"
        table = wrap.find("table")
        header = table.find("tr") if table else None
        if header is not None and len(header.find_all(["th", "td"])) >= WIDE_TABLE_COLUMNS:
            table["class"] = [*table.get("class", []), "aw-wide"]


def export_html(nb: nbformat.NotebookNode, *, title: str, audience: str) -> str:
    """Render the executed notebook as the published, self-contained HTML page.

    ``audience`` (``public``, ``school`` or ``restricted``) sets the marking repeated at the
    top and foot of the page and of every printed page (OFFICIAL, OFFICIAL-SENSITIVE).

    The page is parsed once (:class:`_PageExporter` leaves out nbconvert's own parse): its
    accessibility attributes, labelled table regions, contents and Content-Security-Policy
    are all added to that one tree. A restricted page listing thousands of pupils is
    several megabytes, and every parse of it cost seconds of the runner's time.
    """
    if audience not in MARKINGS:
        raise ValueError(f"audience must be one of {', '.join(MARKINGS)}, not {audience!r}")
    nb = _strip_for_html(nb)
    nb.metadata["title"] = title
    nb.metadata["attendance_workbench"] = {"audience": audience, "marking": MARKINGS[audience]}
    html, _ = _exporter().from_notebook_node(nb, resources={"metadata": {"name": title}})
    soup = BeautifulSoup(html, "html.parser")
    _focusable_outputs(soup)
    _label_table_regions(soup)
    _add_table_of_contents(soup)
    _add_content_security_policy(soup)
    return str(soup)


#: Alt text nbconvert gives an image that has none (the charts always have their own).
MISSING_ALT = "No description has been provided for this image"


def _focusable_outputs(soup: BeautifulSoup) -> None:
    """What nbconvert's ``HTMLExporter`` adds after rendering, done here on the one parse.

    Alt text on any image without it; ``tabindex="0"`` on every cell's input wrapper and
    output inside the notebook (``.jp-Notebook div.jp-Cell-inputWrapper``,
    ``.jp-Notebook div.jp-OutputArea-output``), so a keyboard user can reach and scroll them.
    """
    for img in soup.find_all("img", alt=False):
        img["alt"] = MISSING_ALT
    notebook = soup.find_all(class_="jp-Notebook")
    for root in notebook:
        for name in ("jp-Cell-inputWrapper", "jp-OutputArea-output"):
            for elem in root.find_all("div", class_=name):
                elem["tabindex"] = "0"


class _PageExporter(HTMLExporter):
    """nbconvert's ``HTMLExporter`` without its own parse of the rendered page.

    ``HTMLExporter.from_notebook_node`` registers two filters, renders the template, then
    parses the whole page with BeautifulSoup to add alt text and ``tabindex`` attributes.
    This does the first two steps alone; :func:`export_html` adds those attributes
    (:func:`_focusable_outputs`) on its own parse of the page, so the page is parsed once.
    """

    def from_notebook_node(self, nb, resources=None, **kw):  # type: ignore[override]
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight_code = self.filters.get(
            "highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)
        )
        resources = self._init_resources(resources)
        filter_data_type = WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources
        )
        self.register_filter("highlight_code", highlight_code)
        self.register_filter("filter_data_type", filter_data_type)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


_exporters = threading.local()


def _exporter() -> HTMLExporter:
    """This thread's HTML exporter, made on first use and kept.

    Making one is cheap, but its first export loads and compiles the template; a worker
    that publishes hundreds of school packs does that once. One per thread: an exporter is
    not meant to be shared between threads.
    """
    exporter = getattr(_exporters, "html", None)
    if exporter is None:
        exporter = _exporters.html = _PageExporter(
            template_name=TEMPLATE_NAME,
            extra_template_basedirs=[str(TEMPLATES_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
            embed_images=True,
        )
    return exporter


#: The page's Content-Security-Policy: no script of any kind, nothing loaded from anywhere;
#: only its own inline stylesheet and embedded (``data:``) images.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; style-src 'unsafe-inline'; img-src data:"
)


def add_content_security_policy(html: str) -> str:
    """Put the :data:`CONTENT_SECURITY_POLICY` meta tag first in ``<head>`` (defence in depth)."""
    soup = BeautifulSoup(html, "html.parser")
    _add_content_security_policy(soup)
    return str(soup)


def _add_content_security_policy(soup: BeautifulSoup) -> None:
    head = soup.find("head")
    if head is None:
        raise ValueError("the exported page has no <head> for its Content-Security-Policy")
    meta = soup.new_tag(
        "meta", attrs={"http-equiv": "Content-Security-Policy", "content": CONTENT_SECURITY_POLICY}
    )
    charset = head.find("meta", charset=True)
    if charset is not None:
        charset.insert_after(meta)
    else:
        head.insert(0, meta)


#: Elements that run or embed active content; never in a published page.
ACTIVE_TAGS = ("script", "iframe", "object", "embed", "frame", "applet")
#: URL schemes that run script when followed or loaded.
_SCRIPT_URL = re.compile(r"^(?:javascript|vbscript|livescript):", re.IGNORECASE)
_URL_ATTRS = frozenset({"href", "src", "xlink:href", "action", "formaction", "data", "poster"})
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")  # browsers ignore these inside a scheme


def active_content(html: str) -> list[str]:
    """Everything in ``html`` that could run script: the runner refuses a page with any.

    A ``<script>`` (or ``iframe``, ``object``, ``embed``...), an event-handler attribute
    (``on...``), a ``javascript:`` (or ``vbscript:``) URL in any attribute, or a ``data:`` URL
    anywhere but an image's ``src``. Read with Python's ``html.parser`` as a browser would
    read the tags, every start tag and every attribute as written (a repeated attribute
    is checked each time), without building a tree of the page.
    """
    scanner = _ActiveScanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found


class _ActiveScanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = self.found
        if tag in ACTIVE_TAGS:
            found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.lower().startswith("on"):
                found.append(f"<{tag} {name}> event handler")
            url = _URL_NOISE.sub("", value or "")
            if _SCRIPT_URL.match(url):
                found.append(f"<{tag} {name}> {url.split(':', 1)[0].lower()}: URL")
            elif (
                name.lower() in _URL_ATTRS
                and url.lower().startswith("data:")
                and not (tag == "img" and name == "src" and url.lower().startswith("data:image/"))
            ):
                found.append(f"<{tag} {name}> data: URL")

    handle_startendtag = handle_starttag


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` as indented UTF-8 JSON."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def staging_dir(target: Path) -> Path:
    """A fresh temporary folder next to ``target`` (same filesystem, so the move is a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))


def move_into_place(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging`` by renames: a reader sees the old or the new folder.

    The old folder is renamed aside first and removed after the new one is in place.
    """
    aside = None
    if target.exists():
        aside = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(target, aside)
    try:
        os.replace(staging, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)
