"""How the pages read: as the API does.

Pages run GraphQL documents in-process on the API's own schema (its loaders, bases, limits
and error codes), as an anonymous reader or the bearer of the request's token. Drawings of
many rows, and the origins of a page's many facts (origins.py), read through the projection
queries the API's resolvers batch through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from strawberry.schema.base import BaseSchema

from domain.errors import ErrorCode
from schema.access import Principal
from schema.context import Context
from service.services import Services


class ReadRefused(Exception):
    """The record could not be read as asked: a bad control value, an unknown key, no token."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Moment:
    """The two clocks a visitor set: the day asked about in the world (`as_of`) and how the
    record stood (`known_at`, or a log position `at_position`). None: today, the record now."""

    as_of: date | None = None
    known_at: datetime | None = None
    at_position: int | None = None

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Moment:
        """Read the controls' values from a query string; a bad one is refused by name."""
        as_of = _parsed(params, "asOf", date.fromisoformat, "a day, YYYY-MM-DD")
        known_at = _parsed(params, "knownAt", _moment, "a time, YYYY-MM-DDTHH:MM (UTC)")
        at_position = _parsed(params, "atPosition", int, "a log position (a whole number)")
        if known_at is not None and at_position is not None:
            raise ReadRefused("give knownAt or atPosition, not both: each names a record time")
        return cls(as_of, known_at, at_position)

    @property
    def variables(self) -> dict[str, Any]:
        return {
            "asOf": self.as_of.isoformat() if self.as_of else None,
            "knownAt": self.known_at.isoformat() if self.known_at else None,
            "atPosition": self.at_position,
        }

    @property
    def query(self) -> str:
        """The query string that asks for this moment again ("" for now)."""
        given = {
            "asOf": self.as_of.isoformat() if self.as_of else None,
            "knownAt": self.known_at.strftime("%Y-%m-%dT%H:%M:%S") if self.known_at else None,
            "atPosition": self.at_position,
        }
        text = urlencode({name: value for name, value in given.items() if value is not None})
        return f"?{text}" if text else ""

    @property
    def record_only(self) -> Moment:
        """The same record time, today in the world."""
        return Moment(None, self.known_at, self.at_position)


def _parsed(params: Mapping[str, str], name: str, parse: Any, form: str) -> Any:
    text = params.get(name, "").strip()
    if not text:
        return None
    try:
        value = parse(text)
    except ValueError:
        raise ReadRefused(f"{name}: {text!r} is not {form}") from None
    if isinstance(value, int) and value < 0:
        raise ReadRefused(f"{name}: {text!r} is not {form}")
    return value


def _moment(text: str) -> datetime:
    """A time from a form's datetime-local field (no zone: UTC) or ISO 8601 with a zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


STATUS: dict[str, int] = {
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.INTERNAL_SERVER_ERROR: 500,
    ErrorCode.UNAVAILABLE: 503,
}


class Reader:
    """Runs GraphQL documents on the API's schema, in-process."""

    def __init__(self, services: Services, schema: BaseSchema) -> None:
        self.services = services
        self.schema = schema

    async def read(
        self, document: str, variables: Mapping[str, Any], principal: Principal
    ) -> dict[str, Any]:
        context = Context(services=self.services, request=None, principal=principal)
        result = await self.schema.execute(
            document, variable_values=dict(variables), context_value=context
        )
        if result.errors:
            error = result.errors[0]
            code = (error.extensions or {}).get("code")
            status = STATUS.get(str(code), 400)
            raise ReadRefused(error.message, status)
        assert result.data is not None
        return result.data
