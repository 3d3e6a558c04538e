"""Auditor verbs: verify the log, its guards and its projections; trace a key's history.

Nothing here trusts the running service's tables: the chain is recomputed from the stored
events, and projections are refolded from the log into a fresh SQLite file and compared
with the live ones digest by digest.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from events.chain import timestamp_text
from events.errors import InvalidAppend
from events.model import Head
from events.store import EventStore
from events.verify import verify_chain
from projections.queries.basis import Row
from projections.queries.history import Provenance, history
from service.operations import FAILED, Refused, check_range, opened, reported
from service.services import Services
from service.settings import Settings
from service.transfer import copy_log, fresh_sqlite

# The triggers that make the database itself refuse edits of the log (migration 0001),
# by engine: name -> (table, what its definition must say).
GUARDS = {
    "sqlite": {
        f"{table}_no_{action}": (table, action.upper())
        for table in ("events", "idempotency_keys")
        for action in ("update", "delete")
    },
    "postgresql": {
        f"{table}_{kind}": (table, kind)
        for table in ("events", "idempotency_keys")
        for kind in ("append_only", "no_truncate")
    },
}
# pg_trigger.tgtype bits: row level, before, delete, update, truncate.
_PG_BITS = {"append_only": 1 | 2 | 8 | 16, "no_truncate": 2 | 32}
_PG_TRIGGERS = text(
    "SELECT t.tgname, c.relname, t.tgtype, t.tgenabled, p.prosrc FROM pg_trigger t"
    " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid"
    " WHERE NOT t.tgisinternal"
    " AND t.tgrelid IN ('events'::regclass, 'idempotency_keys'::regclass)"
)
_SQLITE_TRIGGERS = text("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")


@dataclass(frozen=True)
class Check:
    """One verification: ok, FAILED or skipped, what was found, and where the log first broke."""

    name: str
    status: str
    message: str
    first_bad_position: int | None = None


@dataclass(frozen=True)
class VerifyReport:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.status != "FAILED" for check in self.checks)


async def verify_log(services: Services, after: int = 0, until: int | None = None) -> VerifyReport:
    """The chain over a range (all by default), the guards, and, over the whole log only,
    a replay of every projection compared with the live tables."""
    chain = await check_chain(services.store, after, until)
    guards = await check_guards(services.engine)
    if after or until is not None:
        replay = Check("projections", "skipped", "compared only when verifying the whole log")
    elif chain.status == "FAILED":
        replay = Check("projections", "skipped", "not replayed: the chain is broken")
    else:
        replay = await check_replay(services)
    return VerifyReport((chain, guards, replay))


async def check_chain(store: EventStore, after: int, until: int | None) -> Check:
    report = await verify_chain(store, after, until)
    if not report.ok:
        return Check("chain", "FAILED", report.message, report.first_bad_position)
    head = await store.head()
    last = head.position if until is None else min(until, head.position)
    span = f"positions {after + 1}-{last}" if report.checked else "no events"
    return Check("chain", "ok", f"{report.checked} events verified ({span}); head {head.hash}")


async def check_guards(engine: AsyncEngine) -> Check:
    problems = await guard_problems(engine)
    if problems:
        return Check("guards", "FAILED", "; ".join(problems))
    names = ", ".join(sorted(GUARDS[engine.dialect.name]))
    return Check("guards", "ok", f"the database refuses edits of the log ({names})")


async def guard_problems(engine: AsyncEngine) -> list[str]:
    """What is missing or disabled among the triggers that refuse edits of the log."""
    postgres = engine.dialect.name == "postgresql"
    async with engine.connect() as connection:
        rows = (await connection.execute(_PG_TRIGGERS if postgres else _SQLITE_TRIGGERS)).all()
    found = {row[0]: row for row in rows}
    problems = []
    for name, (table, must) in GUARDS[engine.dialect.name].items():
        row = found.get(name)
        if row is None or row[1] != table:
            problems.append(f"trigger {name} on {table} is missing")
        elif not (_pg_guard_holds(row, must) if postgres else _sqlite_guard_holds(row, must)):
            problems.append(f"trigger {name} on {table} no longer refuses edits")
    return problems


def _sqlite_guard_holds(row: tuple[object, ...], action: str) -> bool:
    sql = str(row[2]).upper()
    return f"BEFORE {action}" in sql and "RAISE(ABORT" in sql


def _pg_guard_holds(row: tuple[object, ...], kind: str) -> bool:
    _, _, tgtype, enabled, source = row
    bits = _PG_BITS[kind]
    # 'O' fires in ordinary sessions, 'A' always; 'D' is disabled, 'R' only on replicas.
    fires = enabled in ("O", "A", b"O", b"A")
    return fires and int(str(tgtype)) & bits == bits and "RAISE EXCEPTION" in str(source)


async def check_replay(services: Services) -> Check:
    """Refold the log into a fresh SQLite file and compare each projection's digest."""
    head, live = await _stable_digests(services)
    behind = [s.name for s in await services.projections.status() if s.position != head.position]
    if behind:
        return Check(
            "projections",
            "FAILED",
            f"{', '.join(behind)} behind the log head (position {head.position}): catch up"
            " with `coop projections rebuild NAME`, then verify again",
        )
    with tempfile.TemporaryDirectory() as folder:
        async with fresh_sqlite(Path(folder) / "replay.db", services.store.types) as copy:
            try:
                await copy_log(services.store, copy.store, head.position)
            except InvalidAppend as error:
                return Check("projections", "FAILED", f"the log cannot be replayed: {error}")
            replayed = await copy.projections.digests()
    return _compare(live, replayed, head)


def _compare(live: dict[str, str], replayed: dict[str, str], head: Head) -> Check:
    differ = [name for name in sorted(live) if replayed.get(name) != live[name]]
    if differ:
        first = differ[0]
        return Check(
            "projections",
            "FAILED",
            f"{', '.join(differ)} {'differs' if len(differ) == 1 else 'differ'} from a replay"
            f" of the log to position {head.position} ({first}: live digest {live[first][:16]},"
            f" replayed {str(replayed.get(first))[:16]})",
        )
    return Check(
        "projections",
        "ok",
        f"{len(live)} projections replayed to position {head.position} match the live tables",
    )


async def _stable_digests(services: Services) -> tuple[Head, dict[str, str]]:
    """The live digests and the head they belong to (the log must not grow meanwhile)."""
    for _attempt in range(3):
        before = await services.store.head()
        digests = await services.projections.digests()
        if await services.store.head() == before:
            return before, digests
    raise Refused("the log kept growing while it was being verified; verify again later")


@reported
async def verify_command(settings: Settings, args: argparse.Namespace) -> int:
    check_range(args.after, args.until)
    async with opened(settings) as services:
        report = await verify_log(services, args.after, args.until)
    for check in report.checks:
        print(f"{check.name}: {check.status}: {check.message}")
    if report.ok:
        print("coop: verified")
        return 0
    bad = next(c for c in report.checks if c.status == "FAILED")
    where = f" at position {bad.first_bad_position}" if bad.first_bad_position else ""
    print(f"coop: verification failed{where}: {bad.name}", flush=True)
    return FAILED


# --- history ------------------------------------------------------------------------------

# Bookkeeping columns, shown in a version's header line rather than among its values.
_PERIOD_COLUMNS = frozenset(
    {
        "object",
        "key",
        "valid_from",
        "valid_from_lo",
        "valid_from_hi",
        "valid_to",
        "valid_to_lo",
        "valid_to_hi",
        "record_from",
        "slice",
        "record_to",
        "recorded_from",
        "recorded_to",
        "event_type",
        "certain",
        "made_by",
    }
)


def history_text(key: str, rows: list[Row]) -> str:
    """Every version behind `key`, grouped under the event that made it, oldest first."""
    groups = [list(group) for _, group in groupby(rows, key=lambda row: row["record_from"])]
    made = f"{_counted(len(rows), 'version')} made by {_counted(len(groups), 'event')}"
    lines = [f"{key}: {made}"]
    for group in groups:
        lines += ["", *_event_lines(group[0]["made_by"])]
        lines += [line for row in group for line in _version_lines(row)]
    return "\n".join(lines)


def _event_lines(made: Provenance) -> list[str]:
    source = made.source or {}
    where = source.get("document") or "none given"
    if source.get("section"):
        where += f", section {source['section']}"
    return [
        f"position {made.position}  {timestamp_text(made.recorded_at)}  {made.type}"
        f"  ({made.stream_id})",
        f"  actor: {made.actor or 'unknown'}; reason: {made.reason or 'none given'};"
        f" source: {where}",
    ]


def _version_lines(row: Row) -> list[str]:
    valid = f"{row['valid_from'] or '(unknown)'} to {row['valid_to'] or '(open)'}"
    record = f"position {row['record_from']} to {row['record_to'] or '(current)'}"
    values = [
        f"{name}: {', '.join(map(str, value)) if isinstance(value, list) else value}"
        for name, value in row.items()
        if name not in _PERIOD_COLUMNS and value not in (None, [])
    ]
    return [
        f"  {row['object']} {row['key']}: valid {valid}; record {record}",
        f"    {'; '.join(values) or 'no further values'}",
    ]


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def history_json(key: str, rows: list[Row]) -> str:
    return msgspec.json.encode({"key": key, "versions": rows}).decode()


@reported
async def history_command(settings: Settings, args: argparse.Namespace) -> int:
    async with opened(settings) as services, services.engine.connect() as connection:
        rows = await history(connection, args.key)
    if not rows:
        raise Refused(
            f"nothing in the record has the key {args.key!r} (use a partner or program key like"
            " 'tokyo', or a membership or role id like 'tokyo@c40#1')"
        )
    print(history_json(args.key, rows) if args.json else history_text(args.key, rows))
    return 0
