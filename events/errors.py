"""Errors the event log raises. Each says exactly what was wrong; none leaves anything written."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the event log raises on purpose."""


class InvalidAppend(StoreError, ValueError):
    """The batch cannot be written as given: bad stream id, unknown type, bad payload, ..."""


class InvalidPayload(InvalidAppend):
    """An event to import whose payload is not the event its type stands for (a field
    missing, a value of the wrong type): no fold could read it."""


class ConcurrencyConflict(StoreError):
    """The stream was not at the version the caller expected."""

    def __init__(self, stream_id: str, expected: object, actual: int | None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        shown = "no stream yet" if actual is None else f"version {actual}"
        super().__init__(f"stream {stream_id!r} was expected at {expected}, but it is at {shown}")


class IdempotencyKeyReused(StoreError):
    """An idempotency key (or an event id) came back with different content."""
