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
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from graphql import (
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    print_ast,
)

from schema.parsing import parsed

YEAR = 365 * 24 * 3600


class Query(NamedTuple):
    """A query operation as the cache keys it: the document as graphql-core prints it, and
    its tree."""

    normalized: str
    document: DocumentNode


@lru_cache(maxsize=2048)
def normalized_query(
    document: str, operation_name: str | None, max_tokens: int | None = None
) -> Query | None:
    """The query run by this request, when it is one (None for a mutation, a subscription,
    or a document that does not parse within `max_tokens`)."""
    try:
        tree = parsed(document, max_tokens=max_tokens)  # as Strawberry asks: one entry
    except GraphQLError:
        return None
    operations = [d for d in tree.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name is not None and o.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return None
    return Query(print_ast(tree), tree)


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str
    etag: str
    pinned: bool  # every root field read at a position before the head
    head: int  # the head it was read at

    @property
    def size(self) -> int:
        return len(self.body) + 200


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def cache_control(pinned: bool, anonymous: bool) -> str:
    """Pinned answers never change; others are revalidated with their ETag."""
    scope = "public" if anonymous else "private"
    return f"{scope}, max-age={YEAR}, immutable" if pinned else f"{scope}, no-cache"


def cacheable(answer: Mapping[str, Any], head: int) -> tuple[bool, bool]:
    """Is this answer (as sent, before encoding) worth keeping (no errors), and was it
    pinned to a past position?"""
    if answer.get("errors") or answer.get("data") is None:
        return False, False
    bases = (answer.get("extensions") or {}).get("basis") or {}
    pinned = bool(bases) and all(
        isinstance(b, dict) and b.get("position") is not None and b["position"] < head
        for b in bases.values()
    )
    return True, pinned and len(bases) == len(answer["data"])


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
        size = _size(key, answer)
        if size > self.limit:
            return
        old = self.entries.pop(key, None)
        if old is not None:
            self.used -= _size(key, old)
        self.entries[key] = answer
        self.used += size
        while self.used > self.limit:
            dropped_key, dropped = self.entries.popitem(last=False)
            self.used -= _size(dropped_key, dropped)


def _size(key: tuple[Any, ...], answer: Answer) -> int:
    """An entry's bytes: its answer's, and the request's text held in its key."""
    return answer.size + sum(len(part) for part in key if isinstance(part, bytes | str))
