"""Answers cached by log position, with ETags and Cache-Control.

A query's answer depends only on its document, operation, variables, the caller's role and
the log position it was read at. The log only grows, so an answer read at a head stays
right until the head moves: answers are kept under that key, and no invalidation is needed
beyond reading the head (from the database, so every instance agrees). An answer whose
every root field was pinned to a past position never changes, and says so to HTTP caches.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import msgspec
from graphql import (
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    parse,
    print_ast,
)

from schema.cost import estimate_cost

YEAR = 365 * 24 * 3600


@lru_cache(maxsize=2048)
def normalized_query(document: str, operation_name: str | None) -> str | None:
    """The document as graphql-core prints it, when the operation run is a query (None for a
    mutation, a subscription, or a document that does not parse)."""
    try:
        parsed = parse(document)
    except GraphQLError:
        return None
    operations = [d for d in parsed.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name is not None and o.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return None
    return print_ast(parsed)


@lru_cache(maxsize=2048)
def estimated_cost(
    schema: GraphQLSchema, normalized: str, operation_name: str | None, variables: str, page: int
) -> int:
    """The cost budget's estimate for a normalized query (see `normalized_query`), so an
    operation the budget refuses is refused before the head is read for the cache."""
    decoded = msgspec.json.decode(variables)
    return estimate_cost(schema, parse(normalized), operation_name, decoded, page)


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str
    etag: str
    pinned: bool  # every root field read at a position before the head

    @property
    def size(self) -> int:
        return len(self.body) + 200


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cache_control(pinned: bool, anonymous: bool) -> str:
    """Pinned answers never change; others are revalidated with their ETag."""
    scope = "public" if anonymous else "private"
    return f"{scope}, max-age={YEAR}, immutable" if pinned else f"{scope}, no-cache"


def cacheable(body: bytes, head: int) -> tuple[bool, bool]:
    """Is this answer worth keeping (no errors), and was it pinned to a past position?"""
    try:
        decoded: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return False, False
    if not isinstance(decoded, dict) or decoded.get("errors") or decoded.get("data") is None:
        return False, False
    bases = (decoded.get("extensions") or {}).get("basis") or {}
    pinned = bool(bases) and all(
        isinstance(b, dict) and b.get("position") is not None and b["position"] < head
        for b in bases.values()
    )
    return True, pinned and len(bases) == len(decoded["data"])


class Answers:
    """Serialized answers by key, least recently used first out, bounded in bytes."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.used = 0
        self.entries: OrderedDict[tuple[Any, ...], Answer] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> Answer | None:
        answer = self.entries.get(key)
        if answer is not None:
            self.entries.move_to_end(key)
        return answer

    def put(self, key: tuple[Any, ...], answer: Answer) -> None:
        if answer.size > self.limit:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.used -= old.size
        self.entries[key] = answer
        self.used += answer.size
        while self.used > self.limit:
            _, dropped = self.entries.popitem(last=False)
            self.used -= dropped.size
