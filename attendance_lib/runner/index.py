"""``reports/index.html``: one self-contained page linking every report, from the run.json files."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path
from typing import Any

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


def _row_html(row: dict[str, Any]) -> str:
    title = html.escape(row["title"])
    link = f'<a href="{html.escape(row["href"])}">{title}</a>' if row["href"] else title
    status = html.escape(row["status"])
    if row["status"] != "ok":
        status = f'<span class="failed">{status}</span>'
        if row["failed_href"]:
            status += f' (<a href="{html.escape(row["failed_href"])}">executed notebook</a>)'
        if row["href"]:
            status += "; the link is the last good report"
    restricted = (
        '<span class="restricted">restricted (OFFICIAL-SENSITIVE)</span>'
        if row["restricted"]
        else "no"
    )
    when = html.escape(str(row["finished_at"])[:16].replace("T", " "))
    return (
        f"<tr><td>{link}</td><td>{html.escape(row['label'])}</td><td>{when}</td>"
        f"<td>{restricted}</td><td>{status}</td></tr>"
    )


def write_index(reports_dir: str | Path) -> Path:
    """Write ``<reports_dir>/index.html`` listing every report found; return its path."""
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    rows = collect_runs(reports_dir)
    body = "".join(_row_html(r) for r in rows) or '<tr><td colspan="5">No reports yet.</td></tr>'
    page = (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>Attendance reports</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        "<main>\n<h1>Attendance reports</h1>\n"
        "<table>\n<caption>Every report, its last run and whether it may identify pupils"
        '</caption>\n<thead><tr><th scope="col">Report</th><th scope="col">Unit</th>'
        '<th scope="col">Run</th><th scope="col">Restricted</th><th scope="col">Status</th>'
        f"</tr></thead>\n<tbody>{body}</tbody>\n</table>\n</main>\n</body>\n</html>\n"
    )
    path = reports_dir / INDEX_NAME
    tmp = path.with_name(f".{INDEX_NAME}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path
