"""Errors a command can meet for a business reason, and the codes clients see for every error.

`ErrorCode` is the one list of the `extensions.code` values the API gives; each refusal
below carries its code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


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
    UNAVAILABLE = "UNAVAILABLE"  # the database cannot serve now: try again (HTTP 503)
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    BAD_REQUEST = "BAD_REQUEST"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    TIMEOUT = "TIMEOUT"


class DomainError(Exception):
    """Base of every refusal; `code` is what the API reports, `details` what a client may
    read besides the message (GraphQL `extensions`)."""

    code = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def details(self) -> dict[str, Any]:
        return {}


class ValidationError(DomainError, ValueError):
    """The command is malformed: an empty name, an unknown kind, dates in the wrong order."""

    code = ErrorCode.BAD_USER_INPUT


class NotFound(DomainError, LookupError):
    """The command names something the record does not hold (an unknown partner key)."""

    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    """The command contradicts the record: a duplicate key, an overlap, a version mismatch."""

    code = ErrorCode.CONFLICT


class VersionConflict(Conflict):
    """The stream was not at the version the command expected (0: no stream yet)."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        wanted = "no stream yet" if expected == 0 else f"version {expected}"
        found = "no stream yet" if actual == 0 else f"version {actual}"
        super().__init__(f"stream {stream_id!r} was expected at {wanted}, but it is at {found}")
        self.stream_id, self.expected, self.actual = stream_id, expected, actual

    @property
    def details(self) -> dict[str, Any]:
        return {
            "streamId": self.stream_id,
            "expectedVersion": self.expected,
            "actualVersion": self.actual,
        }
