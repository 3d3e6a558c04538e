"""Relay connections with keyset cursors, for every collection."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from schema.context import Info
from schema.errors import bad_input

Node = TypeVar("Node")


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(f"k:{key}".encode()).decode()


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    if not text.startswith("k:"):
        raise bad_input(f"cursor {cursor!r} is not one this API gave out")
    return text[2:]


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo
    total_count: int

    @strawberry.field
    def nodes(self) -> list[Node]:
        return [edge.node for edge in self.edges]


def wants_total(info: Info) -> bool:
    """Did the query ask for `totalCount` (worth a count query only then)?"""
    return any(
        selection.name == "totalCount"
        for field in info.selected_fields
        for selection in getattr(field, "selections", [])
    )


def page_size(info: Info, first: int | None, last: int | None = None) -> int:
    """The page size asked for, within the configured maximum; a clear error past it."""
    maximum = info.context.services.settings.max_page_size
    asked = first if first is not None else last
    if asked is None:
        return maximum
    if asked < 0 or asked > maximum:
        raise bad_input(f"a page holds 0 to {maximum} items; {asked} were asked for")
    return asked


def connection_of(
    info: Info,
    rows: Sequence[dict[str, Any]],
    make: Callable[[dict[str, Any]], Node],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Node]:
    """Page rows already in key order (all rows of one parent, from a loader)."""
    size = page_size(info, first, last)
    after_key, before_key = decode_cursor(after), decode_cursor(before)
    window = [
        row
        for row in rows
        if (after_key is None or row["key"] > after_key)
        and (before_key is None or row["key"] < before_key)
    ]
    if last is not None and first is None:
        page = window[-size:] if size else []
        more_before, more_after = len(window) > size, before_key is not None
    else:
        page = window[:size]
        more_before, more_after = after_key is not None, len(window) > size
    edges = [Edge(cursor=encode_cursor(row["key"]), node=make(row)) for row in page]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=more_after,
            has_previous_page=more_before,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=len(rows),
    )


def connection_of_keyed(
    info: Info,
    items: Sequence[Any],
    *,
    first: int | None = None,
    after: str | None = None,
) -> Connection[Any]:
    """A connection over objects that carry a `key` (partners already loaded, say)."""
    rows = sorted(({"key": item.key, "item": item} for item in items), key=lambda r: r["key"])
    return connection_of(info, rows, lambda row: row["item"], first=first, after=after)
