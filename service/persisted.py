"""Automatic persisted queries (Apollo's protocol): a client sends a document's SHA-256 in
`extensions.persistedQuery.sha256Hash`, alone once the service knows it (so a query can go
over GET), and with the document the first time (`PERSISTED_QUERY_NOT_FOUND` asks for it)."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from domain.errors import ErrorCode


class PersistedQueryError(Exception):
    """The persisted query cannot be used: `code` and the message say why."""

    def __init__(self, message: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.code = code


class PersistedQueries:
    """The documents this instance has been sent, by their SHA-256, the least recently used
    forgotten first beyond `capacity`."""

    def __init__(self, capacity: int = 2000) -> None:
        self.capacity = capacity
        self._known: OrderedDict[str, str] = OrderedDict()

    def document(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The document to run: `query` itself, or the one its hash names."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            return query
        digest = _digest_of(persisted)
        if query is None:
            known = self._known.get(digest)
            if known is None:
                raise PersistedQueryError(
                    "PersistedQueryNotFound", ErrorCode.PERSISTED_QUERY_NOT_FOUND
                )
            self._known.move_to_end(digest)
            return known
        if hashlib.sha256(query.encode()).hexdigest() != digest:
            raise PersistedQueryError("provided sha does not match query", ErrorCode.BAD_USER_INPUT)
        self._known[digest] = query
        self._known.move_to_end(digest)
        while len(self._known) > self.capacity:
            self._known.popitem(last=False)
        return query


def _digest_of(persisted: Any) -> str:
    if (
        not isinstance(persisted, dict)
        or persisted.get("version") != 1
        or not isinstance(persisted.get("sha256Hash"), str)
    ):
        raise PersistedQueryError(
            'extensions.persistedQuery must be {"version": 1, "sha256Hash": "<hex>"}',
            ErrorCode.BAD_USER_INPUT,
        )
    digest: str = persisted["sha256Hash"].lower()
    if len(digest) != 64 or any(ch not in "0123456789abcdef" for ch in digest):
        raise PersistedQueryError(
            "extensions.persistedQuery.sha256Hash must be 64 hex digits", ErrorCode.BAD_USER_INPUT
        )
    return digest
