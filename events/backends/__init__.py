"""What differs between the two engines, behind one small interface.

Everything else in Coop speaks SQLAlchemy Core and runs the same on both. Here alone:
how an append takes the log's write lock and reads the head, how many rows are written
at once, how appends are announced to other processes, which triggers guard a table,
and how a rebuilt table takes the place of the live one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from events.backends.base import Backend
from events.backends.postgresql import PostgreSQL
from events.backends.sqlite import SQLite

BACKENDS: dict[str, Backend] = {"sqlite": SQLite(), "postgresql": PostgreSQL()}


def backend_of(connection: AsyncConnection | Any) -> Backend:
    """The backend for a connection or engine (anything with a SQLAlchemy `dialect`)."""
    return BACKENDS[connection.dialect.name]
