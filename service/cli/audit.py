"""`coop verify` and `coop history KEY`: the auditor's verbs, printed."""

from __future__ import annotations

import argparse
from itertools import groupby
from pathlib import Path

import msgspec

from events.chain import timestamp_text
from projections.queries.basis import Row
from projections.queries.history import Provenance, history
from service.cli.common import FAILED, OK, Phases, reported
from service.operations.checkpoints import (
    check_checkpoint,
    check_stored_checkpoints,
    read_checkpoint,
    read_public_key,
    service_public_key,
)
from service.operations.database import Refused, check_range, opened
from service.operations.verify import VerifyReport, verify_log
from service.settings import Settings

_UNITS = {"digests": "rows", "replay digests": "rows"}  # the other phases count events


@reported
async def verify(settings: Settings, args: argparse.Namespace) -> int:
    check_range(args.after, args.until)
    if args.checkpoint and not args.public_key:
        raise Refused("--checkpoint needs --public-key FILE, the key it was signed by", usage=True)
    checkpoint = read_checkpoint(Path(args.checkpoint)) if args.checkpoint else None
    public_key = read_public_key(Path(args.public_key)) if args.public_key else None
    phases = Phases()
    try:
        async with opened(settings) as services:
            report = await verify_log(
                services,
                args.after,
                args.until,
                lambda phase: phases.line(f"verify {phase}", _UNITS.get(phase, "events")),
                in_database=not args.in_python,
            )
            phases.finish()
            checks = list(report.checks)
            if checkpoint is not None and public_key is not None:
                checks += await check_checkpoint(services, checkpoint, public_key)
            if args.checkpoints:
                key = public_key or service_public_key(services)
                checks += await check_stored_checkpoints(services, key)
    finally:  # a refusal is said on a line of its own
        phases.finish()
    report = VerifyReport(tuple(checks))
    for check in report.checks:
        print(f"{check.name}: {check.status}: {check.message}")
    bad = report.first_failure
    if bad is None:
        print("coop: verified")
        return OK
    where = f" at position {bad.first_bad_position}" if bad.first_bad_position else ""
    print(f"coop: verification failed{where}: {bad.name}", flush=True)
    return FAILED


@reported
async def show_history(settings: Settings, args: argparse.Namespace) -> int:
    async with opened(settings) as services, services.engine.connect() as connection:
        rows = await history(connection, args.key)
    if not rows:
        raise Refused(
            f"nothing in the record has the key {args.key!r} (use a partner or program key like"
            " 'tokyo', or a membership or role id like 'tokyo@c40#1')"
        )
    print(history_json(args.key, rows) if args.json else history_text(args.key, rows))
    return OK


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
        "closed_by",
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
    lines = [
        f"  {row['object']} {row['key']}: valid {valid}; record {record}",
        f"    {'; '.join(values) or 'no further values'}",
    ]
    closed: Provenance | None = row.get("closed_by")
    if closed is not None and closed.type.endswith("Retracted"):
        lines.append(
            f"    retracted at position {closed.position} ({closed.type});"
            f" reason: {closed.reason or 'none given'}"
        )
    return lines


def _counted(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def history_json(key: str, rows: list[Row]) -> str:
    return msgspec.json.encode({"key": key, "versions": rows}).decode()
