"""The one way report notebooks show headers, sentences, tables, charts and provenance.

Tables are formatted the GSS way: rates and means to one decimal place with half-up rounding
(:func:`attendance_lib.core.numbers.round_half_up`), counts with thousands separators, small
numbers suppressed as ``c`` (:func:`attendance_lib.present.disclosure.suppress`) with a footnote.
Charts use the Okabe-Ito colour-blind-safe palette, always have a title, labelled axes and
alt text, and are embedded as PNG so the page stays self-contained.

A published table also travels, unformatted, as a display output of MIME type
:data:`TABLE_MIME`; the runner writes it to ``tables/<name>.csv`` and ``tables.xlsx``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

import attendance_lib
from attendance_lib.core import markup
from attendance_lib.core.numbers import SUPPRESSED, round_half_up
from attendance_lib.present.disclosure import DEFAULT_THRESHOLD, suppress

TABLE_MIME = "application/vnd.attendance-workbench.table+json"
PROVENANCE_MIME = "application/vnd.attendance-workbench.provenance+json"
#: What the report says about itself (title, period, audience), read by the runner for the index.
HEADER_MIME = "application/vnd.attendance-workbench.header+json"
#: Okabe & Ito (2008) colour-blind-safe palette, black left out (used for text).
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
#: GSS symbol for a value that is not available.
NOT_AVAILABLE = "x"
FIGURE_SIZE = (8.0, 4.5)
FIGURE_DPI = 110
RESTRICTED_MARKING = "OFFICIAL-SENSITIVE"
#: The protective marking of each audience (Government Security Classifications); public: none.
MARKINGS = {"public": "", "school": "OFFICIAL", "restricted": RESTRICTED_MARKING}
#: The banner under the marking, saying who may read the report.
_AUDIENCE_NOTES = {
    "school": "this pack is for the school and the local authority. It shows small numbers "
    "for the school's own pupils but names no pupil. Do not publish it.",
    "restricted": "this report may identify pupils. Share it only with people who need it "
    "for their work.",
}


#: Words shown in capitals in headings (column and parameter names).
ACRONYMS = frozenset(
    {
        "pa",
        "sa",
        "la",
        "urn",
        "upn",
        "fsm",
        "fsm6",
        "sen",
        "ehc",
        "eal",
        "cin",
        "cpp",
        "cla",
        "ks1",
        "ks2",
        "ks4",
        "rwm",
        "ci",
        "smd",
        "dfe",
        "tsm",
    }
)


def _words(name: str) -> str:
    """``academic_year`` -> ``Academic year``; ``pa_pct`` -> ``PA (%)``; ``urn`` -> ``URN``."""
    text = re.sub(r"_pct$", " (%)", str(name)).replace("_", " ").strip()
    words = [w.upper() if w.lower() in ACRONYMS else w for w in text.split(" ")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _value_words(value: Any, key: str = "") -> str:
    """A parameter value in words; a folder (``*_dir``) by its name only, not the full path."""
    if key.endswith("_dir") and isinstance(value, str) and value:
        return PurePath(value).name
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None or value == "":
        return "none"
    if isinstance(value, list | tuple):
        return ", ".join(map(_value_words, value)) or "none"
    return str(value)


def run_date(today: dt.date | None = None) -> str:
    """A date the way GOV.UK writes it: ``23 November 2026``."""
    today = today or dt.date.today()
    return f"{today.day} {today:%B %Y}"


def period_between(start: Any, end: Any) -> str:
    """Two dates as a period the GOV.UK way: ``4 September 2023 to 20 March 2025``."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    return f"{run_date(first.date())} to {run_date(last.date())}"


def _audience(audience: str, restricted: bool | None) -> str:
    if restricted is not None:  # the retired keyword: audience is the one way to say it
        audience = "restricted" if restricted else audience
    if audience not in MARKINGS:
        raise ValueError(f"audience must be one of {', '.join(MARKINGS)}, not {audience!r}")
    return audience


def header_html(
    title: str,
    parameters: Mapping[str, Any],
    *,
    audience: str = "public",
    period: str | None = None,
    restricted: bool | None = None,
) -> str:
    """The HTML of :func:`report_header` (kept apart so it can be tested without a kernel)."""
    audience = _audience(audience, restricted)
    parts = []
    if MARKINGS[audience]:
        parts.append(
            f'<div class="aw-banner" role="note"><strong>{MARKINGS[audience]}</strong>: '
            f"{_AUDIENCE_NOTES[audience]}</div>"
        )
    parts.append(f"<h1>{html.escape(title)}</h1>")
    when = f"Period: {html.escape(period)}. " if period else ""
    parts.append(f'<p class="aw-meta">{when}Run on {run_date()}</p>')
    if parameters:
        rows = "".join(
            f"<dt>{html.escape(_words(k))}</dt><dd>{html.escape(_value_words(v, k))}</dd>"
            for k, v in parameters.items()
        )
        parts.append(f'<dl class="aw-params">{rows}</dl>')
    return "\n".join(parts)


def report_header(
    title: str,
    parameters: Mapping[str, Any],
    *,
    audience: str = "public",
    period: str | None = None,
    restricted: bool | None = None,
) -> None:
    """Show the report's title, period, run date and parameters in words.

    ``audience`` is the notebook parameter the runner sets from the params file (``public``,
    ``school`` or ``restricted``): a school pack or restricted report gets a banner with its
    marking (the runner also marks every printed page). ``period`` says, in words, which
    data the figures cover (``2024/25 to the end of the spring term``); the runner shows it
    in the index ("Not stated" when a report gives none). ``restricted=True`` is the retired
    spelling of ``audience="restricted"``, kept only while notebooks move over.
    """
    audience = _audience(audience, restricted)
    display(
        {
            "text/html": header_html(title, parameters, audience=audience, period=period),
            "text/plain": title,
            HEADER_MIME: {"title": title, "period": period, "audience": audience},
        },
        raw=True,
    )


def say_html(text: str) -> str:
    """The HTML of :func:`say` (kept apart so it can be tested without a kernel)."""
    return f'<div class="aw-say">{markup.to_html(textwrap.dedent(text))}</div>'


def say(text: str) -> None:
    """Show narrative text: always escaped, never read as HTML or Markdown.

    Data values (school names, localities, officers, the LA's name) are shown exactly as
    written. The only markup is the library's own (:mod:`attendance_lib.core.markup`):
    :func:`~attendance_lib.core.markup.strong` (``present.strong``) for emphasis, a blank line between paragraphs, ``- `` at the start of a
    line for a bulleted list. Indentation from triple quotes is removed.
    """
    display({"text/html": say_html(text), "text/plain": markup.to_text(text)}, raw=True)


def _format_column(series: pd.Series, kind: str, decimals: int = 1) -> pd.Series:
    """Display strings for one column; ``c`` stays ``c``, missing becomes ``x``."""
    is_c = series.astype(object).eq(SUPPRESSED)
    numbers = pd.to_numeric(series.where(~is_c), errors="coerce")
    missing = numbers.isna() & ~is_c
    if kind == "count":
        text = numbers.map(lambda v: f"{v:,.0f}" if pd.notna(v) else "")
    elif kind in {"rate", "mean"}:
        text = round_half_up(numbers, decimals=decimals).map(
            lambda v: f"{v:,.{decimals}f}" if pd.notna(v) else ""
        )
    elif pd.api.types.is_float_dtype(series.dtype):
        text = round_half_up(numbers, decimals=decimals).map(
            lambda v: f"{v:.{decimals}f}" if pd.notna(v) else ""
        )
    elif pd.api.types.is_bool_dtype(series.dtype):
        return series.map({True: "Yes", False: "No"}).fillna(NOT_AVAILABLE).astype(str)
    else:
        return series.astype(object).where(series.notna(), NOT_AVAILABLE).astype(str)
    text = text.where(~missing, NOT_AVAILABLE)
    return text.where(~is_c, SUPPRESSED)


def _table_html(shown: pd.DataFrame, kinds: dict[str, str], caption: str, notes: list[str]) -> str:
    numeric = {c for c, k in kinds.items() if k in {"count", "rate", "mean", "number"}}
    num_class = ' class="aw-num"'
    head = "".join(
        f'<th scope="col"{num_class if c in numeric else ""}>{html.escape(_words(c))}</th>'
        for c in shown.columns
    )
    cells = {
        c: shown[c].map(
            lambda v, num=(c in numeric): (
                f'<td class="aw-num">{html.escape(v)}</td>' if num else f"<td>{html.escape(v)}</td>"
            )
        )
        for c in shown.columns
    }
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in zip(*cells.values(), strict=True))
    if shown.empty:
        body = f'<tr><td colspan="{len(shown.columns)}">None.</td></tr>'

    note_html = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    return (
        '<div class="aw-table-wrap"><table class="aw-table">'
        f"<caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></div>"
        + (f'<div class="aw-notes">{note_html}</div>' if notes else "")
    )


def _json_value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    return value


def publish_table(
    df: pd.DataFrame,
    name: str,
    *,
    caption: str,
    counts: Iterable[str] = (),
    rates: Iterable[str] = (),
    means: Iterable[str] = (),
    denominator: str | None = None,
    suppress_below: int = DEFAULT_THRESHOLD,
    note: str | None = None,
    decimals: dict[str, int] | None = None,
) -> pd.DataFrame:
    """Show a table formatted the GSS way and publish it as ``tables/<name>.csv``.

    Parameters
    ----------
    df
        The table; a named or non-default index becomes ordinary columns.
    name
        File-safe name (``[a-z0-9_-]``): the CSV file and the Excel sheet.
    caption
        What the table shows, in words (the HTML ``<caption>``).
    counts
        Count columns: shown with thousands separators; values 1 to ``suppress_below - 1``
        shown as ``c``.
    rates, means
        Columns shown to one decimal place (half-up); ``c`` on rows whose ``denominator``
        is below ``suppress_below``.
    denominator
        The column holding the number of pupils each row's rates and means rest on.
    note
        A footnote shown under the table.
    decimals
        Decimal places shown for particular columns (default 1), e.g. ``{"odds_ratio": 2}``.

    Returns
    -------
    DataFrame
        The published table: suppressed cells are ``c``, rates and means unrounded (the CSV).
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"table name {name!r}: use letters, digits, _ and - only")
    counts, rates, means = list(counts), list(rates), list(means)
    frame = df.reset_index() if _has_meaningful_index(df) else df.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    missing = [c for c in [*counts, *rates, *means, denominator] if c and c not in frame]
    if missing:
        raise KeyError(f"publish_table({name!r}): no column(s) {', '.join(missing)}")
    if (rates or means) and denominator is None:
        raise ValueError(f"publish_table({name!r}): rates and means need a denominator column")
    published = suppress(
        frame,
        counts=counts,
        rates=[*rates, *means],
        denominator=denominator,
        threshold=suppress_below,
    )
    kinds = {c: "count" for c in counts} | {c: "rate" for c in rates} | {c: "mean" for c in means}
    kinds |= {
        c: "number"
        for c in frame.columns
        if c not in kinds
        and pd.api.types.is_numeric_dtype(frame[c].dtype)
        and not pd.api.types.is_bool_dtype(frame[c].dtype)
    }
    places = decimals or {}
    shown = pd.DataFrame(
        {c: _format_column(published[c], kinds.get(c, "text"), places.get(c, 1)) for c in frame}
    )
    notes = []
    if shown.eq(SUPPRESSED).to_numpy().any():
        notes.append(
            f"c = suppressed to protect confidentiality: a count of 1 to {suppress_below - 1}, "
            f"or a figure based on fewer than {suppress_below} pupils."
        )
    if published.isna().to_numpy().any():
        notes.append(f"{NOT_AVAILABLE} = not available.")
    if note:
        notes.append(note)
    payload = {
        "name": name,
        "caption": caption,
        "columns": list(published.columns),
        "kinds": kinds,  # count, rate, mean or number: the workbook's number formats
        "records": [
            {k: _json_value(v) for k, v in row.items()}
            for row in published.to_dict(orient="records")
        ],
    }
    display(
        {
            "text/html": _table_html(shown, kinds, caption, notes),
            "text/plain": f"{caption} ({len(published)} rows)",
            TABLE_MIME: payload,
        },
        raw=True,
    )
    return published


def _has_meaningful_index(df: pd.DataFrame) -> bool:
    if any(n is not None for n in df.index.names):
        return True
    return not isinstance(df.index, pd.RangeIndex)


def figure(
    title: str, xlabel: str, ylabel: str, *, size: tuple[float, float] = FIGURE_SIZE
) -> tuple[Figure, Any]:
    """A new chart in the house style: titled, labelled axes, Okabe-Ito colours.

    The figure is not attached to pyplot, so it is shown only by :func:`show_figure`
    (whatever the notebook's backend) and never twice.
    """
    if not (title and xlabel and ylabel):
        raise ValueError("every chart needs a title and labelled axes")
    fig = Figure(figsize=size, dpi=FIGURE_DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_prop_cycle(color=list(OKABE_ITO))
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#dddddd", linewidth=0.8)
    ax.set_axisbelow(True)
    return fig, ax


def figure_html(fig: Figure, alt: str) -> str:
    """The chart as an ``<img>`` with an embedded PNG and alt text."""
    if not alt or not alt.strip():
        raise ValueError("every chart needs alt text describing what it shows")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (
        f'<figure class="aw-figure"><img src="data:image/png;base64,{data}" '
        f'alt="{html.escape(alt.strip(), quote=True)}"></figure>'
    )


def show_figure(fig: Figure, alt: str) -> None:
    """Show a chart as an embedded PNG with alt text, then close it."""
    markup = figure_html(fig, alt)
    import matplotlib.pyplot as plt

    plt.close(fig)  # a pyplot figure (e.g. from seaborn) is not shown a second time
    display({"text/html": markup, "text/plain": alt.strip()}, raw=True)


def provenance_html(fingerprint: str, files: Mapping[str, str], version: str, when: str) -> str:
    """The HTML of :func:`provenance_footer`: the data fingerprint, run date and version.

    The input files are named only in the audit record (``run.json``), not to readers: the
    fingerprint identifies the data.
    """
    count = len(files)
    inputs = f" from {count} input file{'s' if count != 1 else ''}" if count else ""
    return (
        '<footer class="aw-footer"><p>'
        f"Data fingerprint <code>{html.escape(fingerprint)}</code>{inputs}"
        f" &middot; run on {html.escape(when)}"
        f" &middot; attendance-workbench {html.escape(version)}</p>"
        "</footer>"
    )


def provenance_footer(dataset: Any) -> None:
    """Show where the figures came from: data fingerprint, input files, run date, library version.

    ``dataset`` is a :class:`attendance_lib.contract.dataset.Dataset` (uses ``.fingerprint``, ``.files``).
    The runner also reads this output into ``run.json``.
    """
    files = dict(getattr(dataset, "files", {}) or {})
    version = attendance_lib.__version__
    when = run_date()
    display(
        {
            "text/html": provenance_html(dataset.fingerprint, files, version, when),
            "text/plain": f"Data fingerprint {dataset.fingerprint}",
            PROVENANCE_MIME: {
                "fingerprint": dataset.fingerprint,
                "files": files,
                "library_version": version,
                "run_date": dt.date.today().isoformat(),
            },
        },
        raw=True,
    )
