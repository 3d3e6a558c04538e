"""Errors a command can meet for a business reason, each with a stable `code` for clients."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal; `code` is what the API reports (GraphQL `extensions.code`)."""

    code = "INTERNAL"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError, ValueError):
    """The command is malformed: an empty name, an unknown kind, dates in the wrong order."""

    code = "BAD_USER_INPUT"


class NotFound(DomainError, LookupError):
    """The command names something the record does not hold (an unknown partner key)."""

    code = "NOT_FOUND"


class Conflict(DomainError):
    """The command contradicts the record: a duplicate key, an overlap, a version mismatch."""

    code = "CONFLICT"
