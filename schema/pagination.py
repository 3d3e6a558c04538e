"""Relay connections with keyset cursors, for every collection, forward and backward."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import strawberry

from projections.queries.basis import Found, Page
from schema.context import Info
from schema.errors import bad_input

Node = TypeVar("Node")
Item = TypeVar("Item")


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


@dataclass(frozen=True)
class Paging:
    """A connection's paging arguments: the first items after a cursor, or the last before."""

    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    @property
    def backward(self) -> bool:
        return self.last is not None and self.first is None


def wants_total(info: Info) -> bool:
    """Did the query ask for `totalCount` (worth a count query only then)?"""
    return any(
        selection.name == "totalCount"
        for field in info.selected_fields
        for selection in getattr(field, "selections", [])
    )


def page_size(info: Info, paging: Paging) -> int:
    """The page size asked for, within the configured maximum; a clear error past it."""
    maximum = info.context.services.settings.max_page_size
    if paging.first is not None and paging.last is not None:
        raise bad_input("give first or last, not both")
    asked = paging.first if paging.first is not None else paging.last
    if asked is None:
        return maximum
    if asked < 0 or asked > maximum:
        raise bad_input(f"a page holds 0 to {maximum} items; {asked} were asked for")
    return asked


def page(info: Info, paging: Paging) -> Page:
    """The keyset page a root collection reads in SQL."""
    return Page(
        after=decode_cursor(paging.after),
        before=decode_cursor(paging.before),
        limit=page_size(info, paging),
        backward=paging.backward,
    )


def _connection(edges: list[Edge[Any]], paging: Paging, more: bool, total: int) -> Connection[Any]:
    """`more`: there are items beyond the page in the direction it was read."""
    if paging.backward:
        has_next, has_previous = paging.before is not None, more
    else:
        has_next, has_previous = more, paging.after is not None
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        total_count=total,
    )


def connection_from(found: Found, make: Callable[[Any], Any], paging: Paging) -> Connection[Any]:
    """A connection over one page of rows read in SQL (in key order)."""
    edges = [Edge(cursor=encode_cursor(row["key"]), node=make(row)) for row in found.rows]
    total = found.total if found.total is not None else len(edges)
    return _connection(edges, paging, found.has_more, total)


def connection_of(
    info: Info,
    items: Sequence[Item],
    make: Callable[[Item], Node],
    paging: Paging,
    cursor_of: Callable[[Item], str] = lambda row: str(row["key"]),  # type: ignore[index]
) -> Connection[Node]:
    """Page items already in cursor order (all of one parent's, from a loader)."""
    size = page_size(info, paging)
    after, before = decode_cursor(paging.after), decode_cursor(paging.before)
    window = [
        item
        for item in items
        if (after is None or cursor_of(item) > after)
        and (before is None or cursor_of(item) < before)
    ]
    chosen = (window[-size:] if size else []) if paging.backward else window[:size]
    edges = [Edge(cursor=encode_cursor(cursor_of(item)), node=make(item)) for item in chosen]
    return _connection(edges, paging, len(window) > size, len(items))


def connection_of_keyed(info: Info, items: Sequence[Any], paging: Paging) -> Connection[Any]:
    """A connection over objects that carry a `key` (partners already loaded, say)."""
    ordered = sorted(items, key=lambda item: str(item.key))
    return connection_of(info, ordered, lambda item: item, paging, lambda item: str(item.key))
