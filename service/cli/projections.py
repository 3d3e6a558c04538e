"""`coop projections status` and `coop projections rebuild [NAME] [--diff] [--dry-run]`."""

from __future__ import annotations

import argparse
import json
from typing import Any

from projections.compare import TableDiff
from projections.framework import Projections
from service.cli.common import FAILED, OK, ProgressLine, reported
from service.operations.database import Refused, opened
from service.settings import Settings


@reported
async def status(settings: Settings, _args: argparse.Namespace) -> int:
    async with opened(settings) as services:
        statuses = await services.projections.status()
        head = await services.store.head()
    width = max([len("projection"), *(len(status.name) for status in statuses)])
    print(f"{'projection':<{width}}  {'checkpoint':>10}  {'lag':>8}")
    for status in statuses:
        print(f"{status.name:<{width}}  {status.position:>10}  {status.lag:>8}")
    print(f"log head: position {head.position}, hash {head.hash}")
    return OK


@reported
async def rebuild(settings: Settings, args: argparse.Namespace) -> int:
    diff, dry_run = args.diff or args.dry_run, args.dry_run
    async with opened(settings) as services:
        projections = services.projections
        names = chosen(projections, args.name)
        await projections.ensure_checkpoints()
        line = ProgressLine(f"rebuild {', '.join(names) if len(names) < 3 else 'all'}")
        rebuilt = await projections.rebuild_many(
            names, line, diff=diff, dry_run=dry_run, in_database=not args.in_python
        )
        line.finish()
    if rebuilt.diffs is not None:
        print_diffs(rebuilt.diffs)
    differ = rebuilt.diffs is not None and not all(d.same for d in rebuilt.diffs)
    verdict = "they differ" if differ else "they are the same"
    if dry_run:
        print(
            f"coop: rebuilt {', '.join(names)} up to position {rebuilt.head} beside the live"
            f" tables and compared them: {verdict}; dry run, the live tables are untouched"
        )
        return FAILED if differ else OK
    compared = "" if rebuilt.diffs is None else f", compared with the live tables ({verdict})"
    print(f"coop: rebuilt {', '.join(names)} up to position {rebuilt.head}{compared}")
    return OK


def print_diffs(diffs: list[TableDiff]) -> None:
    """Rows per table on each side, those changed and those on one side only, then the
    first keys that differ with both versions."""
    width = max(len("table"), *(len(d.table) for d in diffs))
    print(
        f"{'table':<{width}}  {'live rows':>10}  {'rebuilt rows':>12}  {'changed':>8}"
        f"  {'only live':>10}  {'only rebuilt':>12}"
    )
    for d in diffs:
        print(
            f"{d.table:<{width}}  {d.live_rows:>10}  {d.rebuilt_rows:>12}  {d.changed:>8}"
            f"  {d.only_live:>10}  {d.only_rebuilt:>12}"
        )
    for d in diffs:
        for key, live, rebuilt in d.first:
            print(f"{d.table} key {key}:")
            for side, versions in (("live", live), ("rebuilt", rebuilt)):
                shown: list[dict[str, Any] | None] = [*versions] or [None]  # None: no version
                for version in shown:
                    print(f"  {side + ':':<8} {json.dumps(version, sort_keys=True, default=str)}")


def chosen(projections: Projections, name: str | None) -> list[str]:
    """The projection named, or all of them."""
    if name is None:
        return sorted(projections.projectors)
    try:
        return [projections.get(name).name]
    except KeyError as error:
        raise Refused(str(error.args[0]), usage=True) from None
