"""The phone page: its HTML filled for one item, and its own script and styles.

The files are package data beside this module, read once. The HTML carries the item's
title as data (escaped) and the script picks the phone's language; the script and styles
are separate files so the page's policy can forbid every inline script (CSP default-src
'self'): text from a checklist, however odd, can never run on the phone.
"""

from __future__ import annotations

import html
from functools import cache
from importlib.resources import files
from string import Template

from pos_tui.domain.checklist import Text

STATIC = {"page.css": "text/css", "page.js": "text/javascript"}
"""The only files the server hands out besides the page; nothing is looked up by path."""


@cache
def asset(name: str) -> bytes:
    if name not in STATIC and name != "page.html":
        raise KeyError(name)
    return files("pos_tui.phone").joinpath("static", name).read_bytes()


def page_html(title: Text, visit: str, photos: bool) -> bytes:
    template = Template(asset("page.html").decode("utf-8"))
    filled = template.substitute(
        title_zh=html.escape(title.zh),
        title_en=html.escape(title.en),
        visit=html.escape(visit),
        photos="1" if photos else "0",
    )
    return filled.encode("utf-8")
