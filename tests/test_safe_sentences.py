"""Sentences are escaped text: no data value is read as HTML or Markdown (issue 13)."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from hostile_fixtures import SCRIPT_PAYLOADS, script_payload  # noqa: F401  (fixture)

from attendance_lib import present
from attendance_lib.core import markup
from attendance_lib.present import notebook

ALLOWED_TAGS = {"div", "p", "ul", "li", "strong"}


def _tags(html: str) -> list:
    return BeautifulSoup(html, "html.parser").find_all(True)


def test_a_script_payload_is_shown_as_text_and_makes_no_element(script_payload):  # noqa: F811
    html = notebook.say_html(f"{present.strong(script_payload)} has {script_payload} in it.")
    tags = _tags(html)
    assert {t.name for t in tags} <= ALLOWED_TAGS
    assert all(set(t.attrs) <= {"class"} for t in tags)
    soup = BeautifulSoup(html, "html.parser")
    assert soup.get_text() == f"{script_payload} has {script_payload} in it."
    assert soup.find("strong").get_text() == script_payload
    assert not soup.find("a") and "<img" not in html and "<svg" not in html


def test_markdown_is_not_interpreted():
    text = "**bold** _it_ `code` [x](javascript:alert(1)) <b>b</b> # head ![i](x.png) $x$ \\* ~s~"
    html = notebook.say_html(text)
    assert {t.name for t in _tags(html)} == {"div", "p"}
    assert BeautifulSoup(html, "html.parser").get_text() == text
    # every Markdown-significant character is a character reference, not a literal
    inner = html.removeprefix('<div class="aw-say"><p>').removesuffix("</p></div>")
    inner = re.sub(r"&#?[0-9a-z]+;", "", inner)
    assert not set(inner) & set(markup.MARKDOWN_SIGNIFICANT + "<>\"'")


def test_library_markup_gives_emphasis_paragraphs_and_lists():
    text = f"""
        {present.strong("Moor Lane")} is a school.
        It is on one line.

        - first item
        - second item,
          continued
        """
    soup = BeautifulSoup(notebook.say_html(text), "html.parser")
    assert soup.find("p").get_text() == "Moor Lane is a school. It is on one line."
    assert soup.find("p").find("strong").get_text() == "Moor Lane"
    assert [li.get_text() for li in soup.find_all("li")] == ["first item", "second item, continued"]


def test_a_data_value_cannot_open_or_close_emphasis():
    sneaky = f"a{markup.STRONG_CLOSE}b{markup.STRONG_OPEN}c"
    html = notebook.say_html(f"{sneaky} and {present.strong(sneaky)}")
    soup = BeautifulSoup(html, "html.parser")
    assert [s.get_text() for s in soup.find_all("strong")] == ["abc"]
    assert markup.STRONG_OPEN not in html and markup.STRONG_CLOSE not in html


def test_say_displays_html_and_plain_text(monkeypatch):
    shown = []
    monkeypatch.setattr(notebook, "display", lambda data, raw: shown.append(data))
    present.say(f"{present.strong('<svg onload=1>')} ok")
    [data] = shown
    assert set(data) == {"text/html", "text/plain"}
    assert data["text/plain"] == "<svg onload=1> ok"
    assert "<svg" not in data["text/html"] and "<strong>&lt;svg" in data["text/html"]


@pytest.mark.parametrize("la_name", SCRIPT_PAYLOADS)
def test_the_la_name_in_the_termly_narrative_stays_text(la_name):
    """The narrative's bullets carry ``la_name``; rendered, it is text inside a list item."""
    html = notebook.say_html("\n".join(f"- {s}" for s in [f"{la_name}: 5.0% absence.", "two"]))
    tags = _tags(html)
    assert {t.name for t in tags} == {"div", "ul", "li"}
    assert BeautifulSoup(html, "html.parser").find("li").get_text() == f"{la_name}: 5.0% absence."
