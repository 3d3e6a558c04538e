"""Documents parsed once per text: the answer cache's key, the cost budget and the execution
all read the same tree, so a new document costs one parse, not three."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from graphql import DocumentNode, parse
from strawberry.extensions import SchemaExtension


@lru_cache(maxsize=512)
def parsed(document: str, max_tokens: int | None = None) -> DocumentNode:
    """The document's tree (raises GraphQLError where it does not parse, or has more than
    `max_tokens` tokens). Shared: nothing may change a tree it is given."""
    return parse(document, max_tokens=max_tokens)


class SharedParserCache(SchemaExtension):
    """Strawberry's parse step answered from `parsed`, with the request's parse options (the
    token limit)."""

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        execution.graphql_document = parsed(execution.query, **execution.parse_options)
        yield
