"""Errors a command can meet for a business reason, and the codes clients see for every error.

`ErrorCode` is the one list of the `extensions.code` values the API gives; each refusal
below carries its code.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """The stable codes of the API's errors (GraphQL `extensions.code`)."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class DomainError(Exception):
    """Base of every refusal; `code` is what the API reports."""

    code = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(DomainError, ValueError):
    """The command is malformed: an empty name, an unknown kind, dates in the wrong order."""

    code = ErrorCode.BAD_USER_INPUT


class NotFound(DomainError, LookupError):
    """The command names something the record does not hold (an unknown partner key)."""

    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    """The command contradicts the record: a duplicate key, an overlap, a version mismatch."""

    code = ErrorCode.CONFLICT
