"""The library's own safe markup for sentences: everything is text, emphasis is explicit.

A sentence shown in a report (:func:`attendance_lib.present.say`) is plain text. School names,
localities, officers, the LA's name and every other data value are shown exactly as written:
never read as HTML or Markdown, so ``<img onerror=...>`` or ``[x](javascript:...)`` in a data
value is shown as those characters and can do nothing.

The only markup is structure the library writes itself:

- **emphasis**: :func:`strong` wraps a phrase in two private-use characters (U+E000, U+E001)
  that :func:`to_html` turns into ``<strong>``; :func:`strong` and :func:`plain` strip those
  characters from any value given to them, so data cannot open or close emphasis;
- **paragraphs**: a blank line between paragraphs;
- **lists**: consecutive lines starting ``- `` form a bulleted list.

Analyses build sentences with f-strings and :func:`strong`; notebooks use ``present.strong``.
"""

from __future__ import annotations

import re

#: Opens and closes emphasis (Unicode private-use characters; never in register data).
STRONG_OPEN = "\ue000"
STRONG_CLOSE = "\ue001"
_MARKERS = re.compile(f"[{STRONG_OPEN}{STRONG_CLOSE}]")
_STRONG = re.compile(f"{STRONG_OPEN}([^{STRONG_OPEN}{STRONG_CLOSE}]*){STRONG_CLOSE}")
#: Characters Markdown (or a Markdown-to-HTML step further on) would act on, written as
#: numeric character references so no later renderer can read them as markup.
MARKDOWN_SIGNIFICANT = "\\`*_[]{}()#+!|~$:"
_ESCAPES = {ord(c): f"&#{ord(c)};" for c in MARKDOWN_SIGNIFICANT} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
    ord('"'): "&quot;",
    ord("'"): "&#39;",
}
_BULLET = "- "


def plain(value: object) -> str:
    """``value`` as text with any emphasis markers removed (a data value cannot carry markup)."""
    return _MARKERS.sub("", str(value))


def strong(value: object) -> str:
    """Mark a phrase for emphasis: ``f"{strong(school_name)} is a primary school."``."""
    return f"{STRONG_OPEN}{plain(value)}{STRONG_CLOSE}"


def escape(text: str) -> str:
    """HTML-escape ``text`` and write Markdown-significant characters as character references."""
    return text.translate(_ESCAPES)  # one pass: no reference is escaped twice


def _inline(text: str) -> str:
    """One paragraph or list item: collapse line breaks, escape, then apply emphasis."""
    text = " ".join(text.split())
    out = escape(text)
    out = _STRONG.sub(lambda m: f"<strong>{m.group(1)}</strong>", out)
    return _MARKERS.sub("", out)  # an unmatched marker is dropped, never shown


def to_html(text: str) -> str:
    """Render a sentence (paragraphs, ``- `` lists, :func:`strong`) as escaped HTML."""
    blocks = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in para.splitlines() if line.strip()]
        if not lines:
            continue
        prose: list[str] = []
        items: list[str] = []
        for line in lines:
            if line.startswith(_BULLET):
                items.append(line[len(_BULLET) :])
            elif items:
                items[-1] += " " + line  # a list item continued on the next line
            else:
                prose.append(line)
        if prose:
            blocks.append(f"<p>{_inline(' '.join(prose))}</p>")
        if items:
            blocks.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
    return "\n".join(blocks)


def to_text(text: str) -> str:
    """The sentence as plain text (emphasis markers removed): the ``text/plain`` form."""
    return plain(text).strip()
