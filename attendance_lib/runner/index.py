"""``reports/index.html``: one self-contained page linking every report, from the run.json files."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

from attendance_lib.core.files import write_atomically

INDEX_NAME = "index.html"
FAILED_DIR = "failed"

_STYLE = """
body { font-family: Arial, "Helvetica Neue", Helvetica, sans-serif; color: #0b0c0c;
  max-width: 70rem; margin: 0 auto; padding: 1rem 1.5rem; line-height: 1.5; }
a { color: #1d70b8; }
table { border-collapse: collapse; width: 100%; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.5rem; }
th, td { text-align: left; border-bottom: 1px solid #b1b4b6; padding: 0.4rem 0.75rem; vertical-align: top; }
thead th { border-bottom: 2px solid #0b0c0c; }
.failed { color: #d4351c; font-weight: bold; }
.restricted { font-weight: bold; }
h2.restricted { color: #d4351c; margin-top: 2.5rem; }
details summary { cursor: pointer; color: #1d70b8; }
ul.units { columns: 2; margin: 0.25rem 0; padding-left: 1.25rem; }
"""


def _read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def collect_runs(reports_dir: Path) -> list[dict[str, Any]]:
    """One entry per report folder: its latest run, with the last good report if that failed.

    Each entry has ``title``, ``label``, ``restricted``, ``status``, ``finished_at`` and
    ``href`` (the HTML of the last good report, relative to ``reports_dir``, or ``None``),
    and ``failed_href`` (the kept notebook) when the latest run failed.
    """
    entries: dict[Path, dict[str, Any]] = {}
    for path in sorted(reports_dir.rglob("run.json")):
        rel_parts = path.relative_to(reports_dir).parts
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
    for entry in entries.values():
        good, bad = entry["good"], entry["failed"]
        latest = good
        if bad and (not good or str(bad[1].get("finished_at")) > str(good[1].get("finished_at"))):
            latest = bad
        path, run = latest
        row = {
            "title": run.get("title", ""),
            "label": run.get("label", ""),
            "restricted": bool(run.get("restricted")),
            "status": run.get("status", "unknown"),
            "finished_at": run.get("finished_at", ""),
            "href": None,
            "failed_href": None,
        }
        if good:
            html_name = (good[1].get("outputs") or {}).get("html")
            if html_name:
                row["href"] = os.path.relpath(good[0].parent / html_name, reports_dir)
        if latest is bad:
            notebook = (bad[1].get("outputs") or {}).get("notebook")
            if notebook:
                row["failed_href"] = os.path.relpath(bad[0].parent / notebook, reports_dir)
        rows.append(row)
    return sorted(rows, key=lambda r: (r["title"], r["label"]))


def _status_html(row: dict[str, Any]) -> str:
    status = html.escape(row["status"])
    if row["status"] != "ok":
        status = f'<span class="failed">{status}</span>'
        if row["failed_href"]:
            status += f' (<a href="{html.escape(row["failed_href"])}">executed notebook</a>)'
        if row["href"]:
            status += "; the link is the last good report"
    return status


def _link(row: dict[str, Any], text: str) -> str:
    text = html.escape(text)
    return f'<a href="{html.escape(row["href"])}">{text}</a>' if row["href"] else text


def _when(rows: list[dict[str, Any]]) -> str:
    latest = max(str(r["finished_at"]) for r in rows)
    return html.escape(latest[:16].replace("T", " "))


def _single_html(row: dict[str, Any]) -> str:
    return (
        f"<tr><td>{_link(row, row['title'])}</td><td>{html.escape(row['label'])}</td>"
        f"<td>{_when([row])}</td><td>{_status_html(row)}</td></tr>"
    )


def _fan_out_html(stem: str, rows: list[dict[str, Any]]) -> str:
    """One row for a report run once per school, with the schools in a collapsible list."""
    title = rows[0]["title"].partition(": ")[0]
    failed = [r for r in rows if r["status"] != "ok"]
    items = "".join(
        f"<li>{_link(r, r['title'].partition(': ')[2] or r['label'])}"
        f"{'' if r['status'] == 'ok' else ' &ndash; ' + _status_html(r)}</li>"
        for r in rows
    )
    summary = f"{len(rows)} schools"
    status = f"{len(rows) - len(failed)} ok" + (
        f', <span class="failed">{len(failed)} failed</span>' if failed else ""
    )
    return (
        f"<tr><td>{html.escape(title)}<details><summary>{summary}</summary>"
        f'<ul class="units">{items}</ul></details></td><td>{html.escape(stem)}</td>'
        f"<td>{_when(rows)}</td><td>{status}</td></tr>"
    )


def _section_html(caption: str, rows: list[dict[str, Any]]) -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["label"].split("/")[0], []).append(row)
    body = "".join(
        _fan_out_html(stem, group)
        if any("/" in r["label"] for r in group)
        else _single_html(group[0])
        for stem, group in groups.items()
    )
    return (
        f"<table>\n<caption>{caption}</caption>\n<thead><tr>"
        '<th scope="col">Report</th><th scope="col">Parameter file</th>'
        '<th scope="col">Last run</th><th scope="col">Status</th>'
        f"</tr></thead>\n<tbody>{body}</tbody>\n</table>\n"
    )


def write_index(reports_dir: str | Path) -> Path:
    """Write ``<reports_dir>/index.html`` listing every report found; return its path.

    Published reports come first; restricted (OFFICIAL-SENSITIVE) ones in a section of their
    own. A report run once per school is one row with its schools in a collapsible list.
    """
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    rows = collect_runs(reports_dir)
    published = [r for r in rows if not r["restricted"]]
    restricted = [r for r in rows if r["restricted"]]
    sections = ""
    if published:
        sections += _section_html("Published reports (no pupil identifiers)", published)
    if restricted:
        sections += (
            '<h2 class="restricted">Restricted reports: OFFICIAL-SENSITIVE</h2>\n'
            "<p>These name pupils by UPN. Share them only with staff who need them.</p>\n"
            + _section_html("Restricted reports (pupil identifiers)", restricted)
        )
    if not rows:
        sections = "<p>No reports yet.</p>\n"
    page = (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>Attendance reports</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<main>\n<h1>Attendance reports</h1>\n{sections}</main>\n</body>\n</html>\n"
    )
    return write_atomically(
        reports_dir / INDEX_NAME, lambda tmp: tmp.write_text(page, encoding="utf-8")
    )
