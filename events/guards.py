"""The triggers that make the database itself refuse edits of the log, and their check."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from events.backends import backend_of

# The tables the migrations guard: what was written there is never edited or deleted.
GUARDED = ("events", "idempotency_keys", "checkpoints")


def guard_names(engine: AsyncEngine) -> list[str]:
    backend = backend_of(engine)
    return sorted(name for table in GUARDED for name in backend.guards(table))


async def guard_problems(engine: AsyncEngine) -> list[str]:
    """What is missing or disabled among the triggers that refuse edits of the log."""
    backend = backend_of(engine)
    async with engine.connect() as connection:
        found = {t.name: t for t in await backend.triggers(connection, GUARDED)}
    problems = []
    for table in GUARDED:
        for name, must in backend.guards(table).items():
            trigger = found.get(name)
            if trigger is None or trigger.table != table:
                problems.append(f"trigger {name} on {table} is missing")
            elif not must <= trigger.refuses:
                problems.append(f"trigger {name} on {table} no longer refuses edits")
    return problems
