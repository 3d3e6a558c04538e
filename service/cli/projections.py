"""`coop projections status` and `coop projections rebuild [NAME]`."""

from __future__ import annotations

import argparse

from projections.framework import Projections
from service.cli.common import OK, ProgressLine, reported
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
    async with opened(settings) as services:
        projections = services.projections
        names = chosen(projections, args.name)
        await projections.ensure_checkpoints()
        for name in names:
            await _rebuild(projections, name)
        head = (await services.store.head()).position
    print(f"coop: rebuilt {', '.join(names)} up to position {head}")
    return OK


async def _rebuild(projections: Projections, name: str) -> None:
    line = ProgressLine(f"rebuild {name}")
    await projections.rebuild(name, lambda done, total, _rate: line(done, total))
    line.finish()


def chosen(projections: Projections, name: str | None) -> list[str]:
    """The projection named, or all of them."""
    if name is None:
        return sorted(projections.projectors)
    try:
        return [projections.get(name).name]
    except KeyError as error:
        raise Refused(str(error.args[0]), usage=True) from None
