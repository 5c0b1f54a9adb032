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
import hashlib
import html
import io
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path, PurePath
from types import CodeType
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from IPython.display import display
from matplotlib.figure import Figure

import attendance_lib
from attendance_lib.core import markup
from attendance_lib.core.numbers import (
    LOW,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    SUPPRESSED,
    format_p,  # noqa: F401  (re-exported: notebooks call present.format_p)
    round_half_up,
)
from attendance_lib.present import disclosure, labels
from attendance_lib.present.disclosure import DEFAULT_THRESHOLD, SYMBOLS, low_share

TABLE_MIME = "application/vnd.attendance-workbench.table+json"
PROVENANCE_MIME = "application/vnd.attendance-workbench.provenance+json"
#: What the report says about itself (title, period, audience), read by the runner for the index.
HEADER_MIME = "application/vnd.attendance-workbench.header+json"
#: The house style of charts (colours, grid, spines, titles, layout): a matplotlib style sheet,
#: applied by :func:`figure` to what it makes.
HOUSE_STYLE = Path(__file__).resolve().parent / "templates" / "house.mplstyle"
_HOUSE_RC = matplotlib.rc_params_from_file(HOUSE_STYLE, use_default_template=False)
_STYLE_DIGEST = hashlib.sha256(HOUSE_STYLE.read_bytes()).hexdigest()[:12]
#: Okabe & Ito (2008) colour-blind-safe palette, black left out (used for text): the house
#: style's colours.
OKABE_ITO = tuple(_HOUSE_RC["axes.prop_cycle"].by_key()["color"])
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


def _value_words(value: Any, key: str = "") -> str:
    """A parameter value in words; a folder (``*_dir``) by its name only, not the full path."""
    if key.endswith("_dir") and isinstance(value, str) and value:
        return labels.label(PurePath(value).name)
    return labels.value_words(value)


def run_date(today: dt.date | None = None) -> str:
    """A date the way GOV.UK writes it: ``23 November 2026``."""
    today = today or dt.date.today()
    return f"{today.day} {today:%B %Y}"


def period_between(start: Any, end: Any) -> str:
    """Two dates as a period the GOV.UK way: ``4 September 2023 to 20 March 2025``."""
    first, last = pd.Timestamp(start), pd.Timestamp(end)
    return f"{run_date(first.date())} to {run_date(last.date())}"


def _audience(audience: str | None, restricted: bool | None) -> str:
    if restricted is not None:  # the retired keyword: audience is the one way to say it
        audience = "restricted" if restricted else audience
    return disclosure.check_audience(audience or "public")


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
            f"<dt>{html.escape(labels.label(k))}</dt><dd>{html.escape(_value_words(v, k))}</dd>"
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
    _PUBLISHED.clear()  # a new report: tables published before are forgotten (breaks_down)
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
    """Display strings for one column; symbols stay as they are, missing becomes ``x``.

    A value at a time in Python (a published table has tens of rows, where each pandas step
    costs more than the values do); numbers are read as ``pd.to_numeric`` reads them.
    """
    numbers = kind in {"count", "integer", "rate", "mean"}
    if not numbers and pd.api.types.is_bool_dtype(series.dtype):
        return series.map({True: "Yes", False: "No"}).fillna(NOT_AVAILABLE).astype(str)
    values = series.astype(object).tolist()
    symbol = [isinstance(v, str) and v in SYMBOLS for v in values]
    if not numbers and not pd.api.types.is_float_dtype(series.dtype):
        text = [
            v if is_symbol else (NOT_AVAILABLE if pd.isna(v) else _cell_words(v))
            for v, is_symbol in zip(values, symbol, strict=True)
        ]
        return pd.Series(text, index=series.index, dtype=object).astype(str)
    numeric = pd.to_numeric(
        pd.Series([None if s else v for v, s in zip(values, symbol, strict=True)], dtype=object),
        errors="coerce",
    ).tolist()
    if kind == "count":
        pattern, rounded = "{:,.0f}", False
    elif kind == "integer":
        pattern, rounded = "{:.0f}", False
    elif kind in {"rate", "mean"}:
        pattern, rounded = f"{{:,.{decimals}f}}", True
    else:  # a float column of another kind
        pattern, rounded = f"{{:.{decimals}f}}", True
    text = []
    for value, number, is_symbol in zip(values, numeric, symbol, strict=True):
        if is_symbol:
            text.append(value)
        elif pd.isna(number):
            text.append(NOT_AVAILABLE)
        else:
            text.append(pattern.format(round_half_up(number, decimals) if rounded else number))
    return pd.Series(text, index=series.index, dtype=object)


def _cell_words(value: Any) -> str:
    """A text cell for readers: a code (``alternative_provision``) in words, other text as is."""
    if isinstance(value, bool | np.bool_):
        return "Yes" if value else "No"
    return labels.label(value) if isinstance(value, str) else str(value)


def _published_values(
    protected: pd.DataFrame, kinds: dict[str, str], places: dict[str, int], shares: set[str]
) -> pd.DataFrame:
    """The values the CSV and workbook carry: exactly what the page shows, as numbers.

    Counts as whole numbers, rates and means rounded half up to the places shown, symbols as
    they are (``c``, ``x`` for missing, ``low`` for a positive share that rounds to zero),
    booleans as Yes/No. Text keeps its codes (tidy data; the page shows them in words).
    """
    out = {}
    for col in protected.columns:
        series = protected[col]
        kind = kinds.get(col, "text")
        decimals = places.get(col, 1)
        if pd.api.types.is_bool_dtype(series.dtype):
            out[col] = series.map({True: "Yes", False: "No"}).astype(object)
            continue
        if kind == "text" and not pd.api.types.is_float_dtype(series.dtype):
            out[col] = series.astype(object).where(series.notna(), NOT_AVAILABLE)
            continue

        def one(v, kind=kind, decimals=decimals, share=col in shares):
            if isinstance(v, str) and v in SYMBOLS:
                return v
            if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
                number = v  # already a number: what pd.to_numeric would give
            else:
                number = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
            if pd.isna(number):
                return NOT_AVAILABLE
            if kind in {"count", "integer"}:
                return int(round_half_up(float(number), 0))
            if share and low_share(float(number), decimals):
                return LOW
            rounded = round_half_up(float(number), decimals)
            return int(rounded) if decimals == 0 else rounded

        out[col] = series.astype(object).map(one)
    return pd.DataFrame(out, index=protected.index)


def _table_html(shown: pd.DataFrame, kinds: dict[str, str], caption: str, notes: list[str]) -> str:
    numeric = {c for c, k in kinds.items() if k in {"count", "rate", "mean", "number"}}
    num_class = ' class="aw-num"'
    head = "".join(
        f'<th scope="col"{num_class if c in numeric else ""}>{html.escape(labels.label(c))}</th>'
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
        '<div class="aw-table-wrap" role="region" tabindex="0" '
        f'aria-label="{html.escape(caption, quote=True)}"><table class="aw-table">'
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


#: Tables published so far in this report, as published (for ``breaks_down``); reset by
#: :func:`report_header`, which every report calls first.
_PUBLISHED: dict[str, pd.DataFrame] = {}


def _own_rows(frame: pd.DataFrame, own: Any) -> np.ndarray | None:
    if own is None:
        return None
    if isinstance(own, Mapping):
        mask = np.ones(len(frame), bool)
        for col, value in own.items():
            if col not in frame:
                raise KeyError(f"own: no column {col!r}")
            mask &= frame[col].astype(object).eq(value).to_numpy()
        return mask
    return np.asarray(own, bool)


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
    audience: str = "public",
    shares: Mapping[str, str | None] | Iterable[str] = (),
    denominators: Mapping[str, str] | None = None,
    row_sums: Mapping[str, Sequence[str]] | None = None,
    total_rows: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    group_totals: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    differences: Mapping[str, Sequence[str]] | None = None,
    breaks_down: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
    follows: Mapping[str, str] | None = None,
    private: Iterable[str] = (),
    own: Mapping[str, Any] | Sequence[bool] | None = None,
    show: bool = True,
) -> pd.DataFrame:
    """Show a table formatted the GSS way, with disclosure control, and publish it.

    The runner writes ``tables/<name>.csv`` and a workbook sheet holding exactly the values
    the page shows (rounded half up as displayed, with the same symbols).

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
        is suppressed or below ``suppress_below``.
    denominator
        The column holding the number of pupils each row's rates and means rest on;
        ``denominators`` gives particular rate columns their own (``{"previous_year_pa_pct":
        "previous_year_enrolments"}``).
    shares
        Rates that are a percentage of the denominator, mapped to their count column (or
        ``None`` where the count is not published: it is rate x denominator / 100). ``c``
        wherever the count is suppressed or under ``suppress_below``.
    row_sums, total_rows, group_totals, differences, breaks_down
        The table's arithmetic, so that no suppressed cell can be worked out from the others
        (see :func:`attendance_lib.present.disclosure.structure`): ``row_sums={"total":
        ["a", "b"]}``; ``total_rows={"column": "school_name", "label": "All", "within":
        ["category"]}``; ``group_totals={"part": "enrolments", "total": "total_enrolments",
        "within": ["urn"]}``; ``differences={"change_pp": ["this_pct", "last_pct"]}``;
        ``breaks_down={"table": "ks2_by_band", "on": ["band"]}`` (a table published earlier
        in the report); ``follows={"sa_gap_pp": "sa_pct"}`` (suppressed wherever its source is).
    private
        Columns used for disclosure control only (the counts a rate rests on), not published.
    audience
        ``public``, ``school`` or ``restricted``
        (:func:`attendance_lib.present.disclosure.suppression_applies`).
    own
        For the ``school`` audience: the rows about the school's own pupils, as ``{column:
        value}`` or a boolean per row. Their small numbers are shown.
    show
        False writes the table to the CSV and workbook only (an appendix), not the page.
    note
        A footnote shown under the table.
    decimals
        Decimal places shown for particular columns (default 1), e.g. ``{"odds_ratio": 2}``.

    Returns
    -------
    DataFrame
        The published table: the values of the CSV (rounded as shown, with symbols).
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"table name {name!r}: use letters, digits, _ and - only")
    counts, rates, means = list(counts), list(rates), list(means)
    share_map = dict(shares) if isinstance(shares, Mapping) else dict.fromkeys(shares)
    frame = df.reset_index() if _has_meaningful_index(df) else df.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    declared = [*counts, *rates, *means, *share_map, denominator, *(denominators or {}).values()]
    declared += [v for v in share_map.values() if v]
    missing = [c for c in declared if c and c not in frame]
    if missing:
        raise KeyError(f"publish_table({name!r}): no column(s) {', '.join(missing)}")
    if (rates or means or share_map) and denominator is None:
        raise ValueError(f"publish_table({name!r}): rates and means need a denominator column")
    spec = disclosure.structure(
        counts=counts,
        rates=[*rates, *means],
        denominator=denominator,
        denominators=denominators,
        shares=share_map,
        row_sums=row_sums,
        total_rows=total_rows,
        group_totals=group_totals,
        differences=differences,
        breaks_down=breaks_down,
        follows=follows,
        threshold=suppress_below,
    )
    protected = disclosure.protect(
        frame, spec, audience=audience, own=_own_rows(frame, own), parents=_PUBLISHED
    )
    rate_cols = [*rates, *(c for c in share_map if c not in rates)]
    kinds = {c: "count" for c in counts} | {c: "rate" for c in rate_cols}
    kinds |= {c: "mean" for c in means}
    for c in frame.columns:
        if c not in kinds and pd.api.types.is_float_dtype(frame[c].dtype):
            values = frame[c].dropna()
            # a code with gaps (a URN missing on the LA row) is a float column of whole numbers
            whole = len(values) > 0 and bool((values == values.round()).all())
            kinds[c] = "integer" if whole else "number"
    places = decimals or {}
    private = list(private)
    protected = protected.drop(columns=private)
    frame = frame.drop(columns=private)
    published = _published_values(protected, kinds, places, set(share_map))
    _PUBLISHED[name] = published
    shown = pd.DataFrame(
        {c: _format_column(published[c], kinds.get(c, "text"), places.get(c, 1)) for c in frame}
    )
    notes = symbol_notes(shown, suppress_below)
    if note:
        notes.append(note)
    payload = {
        "name": name,
        "caption": caption,
        "columns": list(published.columns),
        "kinds": kinds,  # count, rate, mean or number: the workbook's number formats
        "labels": labels.labels_for(published.columns),
        "audience": audience,
        "shown": show,
        "disclosure": _public_structure(spec, private).to_json(),
        "records": [
            {k: _json_value(v) for k, v in row.items()}
            for row in published.to_dict(orient="records")
        ],
    }
    if show:
        display(
            {
                "text/html": _table_html(shown, kinds, caption, notes),
                "text/plain": f"{caption} ({len(published)} rows)",
                TABLE_MIME: payload,
            },
            raw=True,
        )
    else:  # the runner writes it to the files; the page shows nothing
        display({TABLE_MIME: payload}, raw=True)
    return published


def _public_structure(spec: disclosure.Structure, private: list[str]) -> disclosure.Structure:
    """The structure as a reader sees it: what refers to an unpublished column is left out."""
    if not private:
        return spec
    gone = set(private)
    data = spec.to_json()
    data["counts"] = [c for c in data["counts"] if c not in gone]
    data["shares"] = {k: (None if v in gone else v) for k, v in data["shares"].items()}
    # a rate whose denominator is private keeps it: a reader cannot multiply by it
    return disclosure.Structure.from_json(data)


def symbol_notes(shown: pd.DataFrame, suppress_below: int = DEFAULT_THRESHOLD) -> list[str]:
    """Footnotes for the symbols a shown table uses (GSS/EES meanings)."""
    used = set(shown.astype(str).to_numpy().ravel().tolist()) & SYMBOLS
    notes = []
    if SUPPRESSED in used:
        notes.append(
            f"c = confidential: a count of 1 to {suppress_below - 1}, a figure based on fewer "
            f"than {suppress_below} pupils, or a figure from which one of those could be "
            "worked out."
        )
    for symbol in (NOT_AVAILABLE, NOT_APPLICABLE, LOW):
        if symbol in used:
            notes.append(f"{symbol} = {labels.SYMBOL_MEANINGS[symbol]}.")
    return notes


def _has_meaningful_index(df: pd.DataFrame) -> bool:
    if any(n is not None for n in df.index.names):
        return True
    return not isinstance(df.index, pd.RangeIndex)


def figure(
    title: str,
    xlabel: str,
    ylabel: str,
    *,
    size: tuple[float, float] = FIGURE_SIZE,
    panels: Sequence[str] | None = None,
) -> tuple[Figure, Any]:
    """A new chart in the house style (:data:`HOUSE_STYLE`): titled, labelled axes, Okabe-Ito.

    ``panels`` (panel titles) gives side-by-side panels, each with its own value axis, e.g.
    mainstream schools beside special schools and AP, so a small group with very different
    figures (AP's persistent absence is several times a primary school's) neither squashes
    nor hides the others; the axes are then returned as a list. Each axis must still start
    at zero or say it does not (:func:`check_axes`).

    The figure is not attached to pyplot, so it is shown only by :func:`show_figure`
    (whatever the notebook's backend) and never twice.
    """
    if not (title and xlabel and ylabel):
        raise ValueError("every chart needs a title and labelled axes")
    # the style applies to what is made here, not to pyplot's settings or to other charts
    with matplotlib.rc_context(_HOUSE_RC):
        fig = Figure(figsize=size, dpi=FIGURE_DPI)
        names = list(panels or [None])
        axes = fig.subplots(1, len(names), squeeze=False)[0].tolist()
        for ax, name in zip(axes, names, strict=True):
            ax.set_xlabel(xlabel)
            ax.set_ylabel(ylabel)
            # a tick made after this style (when a spine is moved, say) still draws the
            # style's grid line
            ax.yaxis.set_tick_params(
                grid_color=_HOUSE_RC["grid.color"], grid_linewidth=_HOUSE_RC["grid.linewidth"]
            )
            if name:  # a panel's title: smaller than the chart's, not bold
                ax.set_title(name, fontsize=11, fontweight="normal")
        if panels:
            fig.suptitle(title, x=0.01, ha="left")
            return fig, axes
        axes[0].set_title(title)
        return fig, axes[0]


#: Added to the y-axis label (and the alt text) of a line chart whose axis does not start at 0.
CUT_AXIS_NOTE = "axis does not start at zero"


def check_axes(fig: Figure) -> list[str]:
    """Enforce honest axes before a chart is shown; return notes for the alt text.

    A bar chart must start at zero (raises ``ValueError`` otherwise). A line chart whose value
    axis is cut (does not start at zero) says so on its y-axis label.
    """
    from matplotlib.patches import Rectangle

    notes = []
    for ax in fig.axes:
        bars = [p for p in ax.patches if isinstance(p, Rectangle)]
        if bars:
            horizontal = all(b.get_x() == 0 for b in bars) and not all(b.get_y() == 0 for b in bars)
            low = ax.get_xlim()[0] if horizontal else ax.get_ylim()[0]
            if low > 0:
                raise ValueError(f"bar chart {ax.get_title()!r}: bars must start at zero")
        elif ax.get_lines():
            bottom = ax.get_ylim()[0]
            label = ax.get_ylabel()
            if bottom > 0 and CUT_AXIS_NOTE not in label and label:
                # start on a tick, so the note names a round figure (91.5, not 91.313)
                ticks = [t for t in ax.get_yticks() if t <= bottom]
                if ticks:
                    bottom = float(ticks[-1])
                    ax.set_ylim(bottom=bottom)
                ax.set_ylabel(f"{label}\n({CUT_AXIS_NOTE}: it starts at {bottom:g})")
                notes.append(f"The value axis starts at {bottom:g}, not zero.")
    return notes


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


def figure_markup(fig: Figure, alt: str) -> tuple[str, str]:
    """What :func:`show_figure` displays: the chart's HTML and its alt text as plain text.

    Bars must start at zero; a line chart with a cut axis says so (:func:`check_axes`). The
    figure is closed.
    """
    if not alt or not alt.strip():
        raise ValueError("every chart needs alt text describing what it shows")
    alt = " ".join([alt.strip(), *check_axes(fig)])
    markup = figure_html(fig, alt)
    import matplotlib.pyplot as plt

    plt.close(fig)  # a pyplot figure (e.g. from seaborn) is not shown a second time
    return markup, alt.strip()


def show_figure(fig: Figure, alt: str) -> None:
    """Show a chart as an embedded PNG with alt text, then close it (:func:`figure_markup`)."""
    markup, text = figure_markup(fig, alt)
    display({"text/html": markup, "text/plain": text}, raw=True)


def show_shared_figure(
    dataset: Any, name: str, key: Mapping[str, Any], draw: Callable[[], tuple[Figure, str]]
) -> None:
    """:func:`show_figure` of the chart ``draw()`` gives (figure, alt text), drawn once.

    The chart's markup is kept in the dataset's cache
    (:meth:`~attendance_lib.contract.dataset.Dataset.cached_result`), keyed by the data, the
    library's code, ``name``, ``key``, ``draw``'s own code (:func:`code_identity`: a changed
    notebook cell draws again), the house style sheet and matplotlib's version. So reports
    showing the same chart (a school's public and restricted packs) draw it once between
    them. ``key`` must name every parameter the data drawn depends on.
    """
    full = {
        **key,
        "draw": hashlib.sha256(code_identity(draw.__code__)).hexdigest()[:16],
        "style": _STYLE_DIGEST,
        "matplotlib": matplotlib.__version__,
    }
    markup, text = dataset.cached_result(name, full, lambda: figure_markup(*draw()))
    display({"text/html": markup, "text/plain": text}, raw=True)


def code_identity(code: CodeType) -> bytes:
    """What a function's code does, as bytes: its bytecode, names and constants, nested
    functions and comprehensions included; not where it was defined (a notebook cell's
    file name differs from kernel to kernel)."""
    parts = [code.co_code, repr((code.co_names, code.co_varnames, code.co_freevars)).encode()]
    for const in code.co_consts:
        parts.append(code_identity(const) if isinstance(const, CodeType) else repr(const).encode())
    return b"\x00".join(parts)


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
