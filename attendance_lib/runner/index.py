"""The index pages: ``reports/index.html`` and ``reports/restricted/index.html``.

Written from the ``run.json`` files in the audit folders (``reports/_runs/`` and
``reports/restricted/_runs/``). Each report is one row in words: its title (linked) and
one-line description, who it is for, the period its data cover and the date it was run. No
file names, parameter names or statuses for developers: a report whose latest run failed
says so in a sentence, and links the last good report if there is one.

The public index lists ``public`` reports and the schools' own packs (``school``). Restricted
reports are never linked from it: they get their own index, under ``reports/restricted/``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path
from typing import Any

from attendance_lib.core.files import write_atomically
from attendance_lib.runner.params import AUDIENCE_WORDS

INDEX_NAME = "index.html"
FAILED_DIR = "failed"
#: The audit folder beside the report folders: executed notebooks and run.json files.
AUDIT_DIR = "_runs"
#: Where restricted reports go, under the reports folder.
RESTRICTED_DIR = "restricted"
NOT_STATED = "Not stated"

_STYLE = """
body { font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; color: #0b0c0c;
  max-width: 70rem; margin: 0 auto; padding: 1rem 1.5rem; line-height: 1.5; }
a { color: #1d70b8; }
a:focus { outline: 3px solid #ffdd00; background: #ffdd00; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: bold; font-size: 1.2rem; padding-bottom: 0.5rem; }
th, td { text-align: left; border-bottom: 1px solid #b1b4b6; padding: 0.5rem 0.75rem;
  vertical-align: top; overflow-wrap: break-word; }
thead th { border-bottom: 2px solid #0b0c0c; }
td.report { width: 45%; }
.description { display: block; color: #505a5f; margin-top: 0.25rem; }
.failed { color: #d4351c; font-weight: bold; }
.marking { margin: 0 0 1rem; padding: 0.25rem; text-align: center; font-weight: bold;
  letter-spacing: 0.1em; background: #d4351c; color: #fff; }
details summary { cursor: pointer; color: #1d70b8; }
ul.units { columns: 2; margin: 0.25rem 0; padding-left: 1.25rem; }
@media (max-width: 40rem) {
  table, thead, tbody, tr, th, td, caption { display: block; }
  thead { position: absolute; left: -10000px; }
  td.report { width: auto; }
  td[data-label]::before { content: attr(data-label) ": "; font-weight: bold; }
  ul.units { columns: 1; }
}
"""


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def collect_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """One entry per report folder of ``reports_dir``: its latest run, and the last good one.

    Reads ``<reports_dir>/_runs/**/run.json`` (a failed run: ``<audit>/failed/run.json``).
    Each entry has ``title``, ``label``, ``audience``, ``description``, ``period``,
    ``status``, ``finished_at`` and ``href`` (the last good report's page, relative to
    ``reports_dir``, or ``None``).
    """
    audit_root = reports_dir / AUDIT_DIR
    entries: dict[Path, dict[str, Any]] = {}
    for path in sorted(audit_root.rglob("run.json")) if audit_root.is_dir() else []:
        rel_parts = path.relative_to(audit_root).parts
        if any(part.startswith(".") for part in rel_parts):  # staging or set-aside folders
            continue
        run = _read(path)
        if run is None:
            continue
        failed = path.parent.name == FAILED_DIR
        folder = path.parent.parent if failed else path.parent
        entry = entries.setdefault(folder, {"good": None, "failed": None})
        entry["failed" if failed else "good"] = (path, run)
    rows = []
    for folder, entry in entries.items():
        good, bad = entry["good"], entry["failed"]
        latest = good
        if bad and (not good or str(bad[1].get("finished_at")) > str(good[1].get("finished_at"))):
            latest = bad
        _, run = latest
        about = good[1] if good else run
        row = {
            "title": run.get("title", ""),
            "label": run.get("label", ""),
            "audience": _audience(run),
            "description": about.get("description") or "",
            "period": about.get("period") or None,
            "status": run.get("status", "unknown"),
            "finished_at": run.get("finished_at", ""),
            "href": None,
        }
        if good:
            html_name = Path(str((good[1].get("outputs") or {}).get("html") or "")).name
            page = reports_dir / folder.relative_to(audit_root) / html_name
            if html_name and page.is_file():
                row["href"] = Path(os.path.relpath(page, reports_dir)).as_posix()
        rows.append(row)
    return sorted(rows, key=lambda r: (r["title"], r["label"]))


def _audience(run: dict[str, Any]) -> str:
    audience = run.get("audience")
    if audience in AUDIENCE_WORDS:
        return audience
    return "restricted" if run.get("restricted") else "public"  # a run.json from before audiences


def run_date(finished_at: str) -> str:
    """``2026-12-01T11:20:05+00:00`` -> ``1 December 2026`` (GOV.UK style)."""
    try:
        when = dt.datetime.fromisoformat(str(finished_at))
    except ValueError:
        return NOT_STATED
    return f"{when.day} {when:%B %Y}"


def _link(row: dict[str, Any], text: str) -> str:
    text = html.escape(text)
    return f'<a href="{html.escape(row["href"])}">{text}</a>' if row["href"] else text


def _failure_note(row: dict[str, Any]) -> str:
    if row["status"] == "ok":
        return ""
    if row["href"]:
        return ' <span class="failed">The latest run failed: this is the last good report.</span>'
    return ' <span class="failed">Not available: the latest run failed.</span>'


def _cells(row_title: str, rows: list[dict[str, Any]], extra: str = "") -> str:
    first = rows[0]
    description = html.escape(first["description"]) if first["description"] else ""
    periods = sorted({r["period"] or NOT_STATED for r in rows})
    latest = max(str(r["finished_at"]) for r in rows)
    return (
        f'<td class="report" data-label="Report">{row_title}'
        + (f'<span class="description">{description}</span>' if description else "")
        + f"{extra}</td>"
        f'<td data-label="For">{html.escape(AUDIENCE_WORDS[first["audience"]])}</td>'
        f'<td data-label="Period">{html.escape("; ".join(periods))}</td>'
        f'<td data-label="Run on">{html.escape(run_date(latest))}</td>'
    )


def _single_html(row: dict[str, Any]) -> str:
    return f"<tr>{_cells(_link(row, row['title']) + _failure_note(row), [row])}</tr>"


def _fan_out_html(rows: list[dict[str, Any]]) -> str:
    """One row for a report run once per school, with the schools in a collapsible list."""
    title = html.escape(rows[0]["title"].partition(": ")[0])
    failed = [r for r in rows if r["status"] != "ok"]
    items = "".join(
        f"<li>{_link(r, r['title'].partition(': ')[2] or r['title'])}{_failure_note(r)}</li>"
        for r in sorted(rows, key=lambda r: r["title"])
    )
    summary = f"{len(rows)} schools" + (
        f', <span class="failed">{len(failed)} failed</span>' if failed else ""
    )
    extra = f'<details><summary>{summary}</summary><ul class="units">{items}</ul></details>'
    return f"<tr>{_cells(title, rows, extra)}</tr>"


def _table_html(caption: str, rows: list[dict[str, Any]]) -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["label"].split("/")[0], []).append(row)
    body = "".join(
        _fan_out_html(group) if any("/" in r["label"] for r in group) else _single_html(group[0])
        for group in groups.values()
    )
    return (
        f"<table>\n<caption>{html.escape(caption)}</caption>\n<thead><tr>"
        '<th scope="col">Report</th><th scope="col">For</th>'
        '<th scope="col">Period</th><th scope="col">Run on</th>'
        f"</tr></thead>\n<tbody>{body}</tbody>\n</table>\n"
    )


def _page(title: str, body: str, marking: str = "") -> str:
    banner = f'<p class="marking" role="note">{html.escape(marking)}</p>\n' if marking else ""
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{banner}<main>\n<h1>{html.escape(title)}</h1>\n{body}</main>\n{banner}</body>\n</html>\n"
    )


def _write(path: Path, page: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomically(path, lambda tmp: tmp.write_text(page, encoding="utf-8"))


def write_index(reports_dir: str | Path) -> Path:
    """Write the public index (``<reports_dir>/index.html``) and, when there are restricted
    reports, their own index (``<reports_dir>/restricted/index.html``); return the public one.

    The public index lists public reports, then the schools' own packs; a report run once
    per school is one row with its schools in a collapsible list. It never links or names a
    restricted report.
    """
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    rows = [r for r in collect_runs(reports_dir) if r["audience"] != "restricted"]
    public = [r for r in rows if r["audience"] == "public"]
    school = [r for r in rows if r["audience"] == "school"]
    body = ""
    if public:
        body += _table_html("Published reports", public)
    if school:
        body += (
            "<p>Each school's own pack is for the school and the local authority: it is "
            "marked OFFICIAL and is not for publication.</p>\n"
            + _table_html("Schools' own packs", school)
        )
    if not rows:
        body = "<p>No reports yet.</p>\n"
    index = _write(reports_dir / INDEX_NAME, _page("Attendance reports", body))

    restricted_dir = reports_dir / RESTRICTED_DIR
    restricted = [r for r in collect_runs(restricted_dir) if r["audience"] == "restricted"]
    if restricted:
        body = (
            "<p>These reports identify pupils. Share them only with the staff who need them "
            "for their work, and keep them on restricted storage.</p>\n"
            + _table_html("Restricted reports", restricted)
        )
        _write(
            restricted_dir / INDEX_NAME,
            _page("Restricted attendance reports", body, marking="OFFICIAL-SENSITIVE"),
        )
    return index
