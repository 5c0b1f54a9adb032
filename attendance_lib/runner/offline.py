"""The offline check: a published page must load nothing from any other host.

A report is read on council laptops, often offline or behind a proxy, and must not leak that
it was opened. Every resource is embedded, so any ``src``, ``srcset``, ``href`` (on anything
but a plain link), ``url(...)`` or ``@import`` pointing at ``http:``, ``https:`` or a
protocol-relative ``//`` address is a failure. Links a reader may *follow* (``<a href>``)
load nothing and are allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

#: An address on another host.
EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)", re.IGNORECASE | re.DOTALL)
_CSS_IMPORT = re.compile(r"@import\s+(?:url\()?\s*['\"]?([^'\");\s]+)", re.IGNORECASE)
#: Attributes whose value the browser fetches.
LOADING_ATTRS = frozenset(
    {
        "src",
        "href",
        "xlink:href",
        "poster",
        "data",
        "background",
        "action",
        "formaction",
        "manifest",
    }
)
#: Tags whose ``href`` is a link to follow, not a resource to load.
LINK_TAGS = frozenset({"a", "area"})


@dataclass(frozen=True)
class ExternalLoad:
    """One reference to another host: the tag, the attribute (or css) and the address."""

    tag: str
    attribute: str
    url: str

    def __str__(self) -> str:
        return f"<{self.tag} {self.attribute}> loads {self.url}"


def css_loads(css: str) -> list[str]:
    """Addresses on other hosts in a stylesheet's ``url(...)`` and ``@import``."""
    found = [m.group(2) for m in _CSS_URL.finditer(css)]
    found += [m.group(1) for m in _CSS_IMPORT.finditer(css)]
    return [u for u in dict.fromkeys(found) if EXTERNAL.match(u)]


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[ExternalLoad] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self._check(tag, attrs)
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self._check(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.found += [ExternalLoad("style", "css", u) for u in css_loads(data)]

    def _check(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name == "style":
                self.found += [ExternalLoad(tag, "style", u) for u in css_loads(value)]
            elif name in {"srcset", "imagesrcset"}:
                for candidate in value.split(","):
                    url = candidate.strip().split(" ")[0]
                    if EXTERNAL.match(url):
                        self.found.append(ExternalLoad(tag, name, url))
            elif name in LOADING_ATTRS and EXTERNAL.match(value):
                if name == "href" and tag in LINK_TAGS:
                    continue
                self.found.append(ExternalLoad(tag, name, value.strip()))
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                url = value.lower().split("url=", 1)[1]
                if EXTERNAL.match(url):
                    self.found.append(ExternalLoad(tag, "content", url))


def external_loads(html: str) -> list[ExternalLoad]:
    """Every reference in ``html`` that would make a browser contact another host."""
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.found
