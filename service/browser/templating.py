"""The page templates (Jinja2, autoescaped), loaded from the package."""

from __future__ import annotations

import re
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def templates() -> Environment:
    """One environment for the process: it holds only the compiled templates."""
    environment = Environment(
        loader=PackageLoader("service.browser", "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["anchor"] = anchor
    return environment


def anchor(*parts: str) -> str:
    """An id for a page's fragment: "tmg", "Cooperation with C40" -> tmg--cooperation-with-c40."""
    return "--".join(re.sub(r"[^a-z0-9]+", "-", part.lower()).strip("-") for part in parts)
