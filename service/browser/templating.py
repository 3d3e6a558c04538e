"""The page templates (Jinja2, autoescaped), loaded from the package."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape


@cache
def templates() -> Environment:
    """One environment for the process: it holds only the compiled templates."""
    return Environment(
        loader=PackageLoader("service.browser", "templates"),
        autoescape=select_autoescape(["html", "svg"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
