"""schema.graphql in the repository is the schema the code serves."""

from __future__ import annotations

from pathlib import Path

from schema.root import build_schema

SCHEMA_FILE = Path(__file__).parents[2] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    served = build_schema().as_str() + "\n"
    assert SCHEMA_FILE.read_text() == served, (
        "schema.graphql differs from the code: run `make schema` and commit the file"
    )
