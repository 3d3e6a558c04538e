"""GraphiQL at GET /graphql, from files Coop ships (static/graphiql/README.md says which)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from service.browser.templating import templates

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Asset:
    """A file the page loads, and the SHA-384 digest the browser checks it against."""

    path: str  # under static/
    integrity: str | None = None  # None for our own script, which changes with the code

    @property
    def href(self) -> str:
        # Relative to /graphql, so the page also works under a proxy's path prefix.
        return f"static/{self.path}"


STYLESHEETS = (
    Asset(
        "graphiql/graphiql.min.css",
        "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
    ),
    Asset(
        "graphiql/plugin-explorer.css",
        "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
    ),
)
SCRIPTS = (
    Asset(
        "graphiql/react.production.min.js",
        "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
    ),
    Asset(
        "graphiql/react-dom.production.min.js",
        "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
    ),
    Asset(
        "graphiql/graphiql.min.js",
        "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
    ),
    Asset(
        "graphiql/plugin-explorer.umd.js",
        "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
    ),
    Asset("graphiql/coop-graphiql.js"),
)
VENDORED = tuple(asset for asset in STYLESHEETS + SCRIPTS if asset.integrity)


def graphiql_html(reads_need_token: bool = False) -> str:
    """The page; where reads need a token, it asks for one before it asks for the schema."""
    return (
        templates()
        .get_template("graphiql.html")
        .render(stylesheets=STYLESHEETS, scripts=SCRIPTS, reads_need_token=reads_need_token)
    )
