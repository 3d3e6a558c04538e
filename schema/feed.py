"""Subscriptions: the log as a live, resumable feed, and domain feeds built on it.

Every feed first replays what matches after `after`, then continues live, in position
order; each item carries its position, so a client resumes with `after` set to the last
position it saw. Without `after`, a feed starts from now. While the database is away a
feed waits for it (events.faults.patiently) and then continues.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import Any

import strawberry

from events.faults import patiently
from events.model import RecordedEvent
from projections.queries import tables
from projections.queries.basis import Basis, by_key
from schema.context import Info, check_may_read
from schema.errors import bad_input
from schema.log import Event
from schema.memberships import Membership
from schema.partners import Partner

MEMBERSHIP_EVENTS = ["MembershipStarted", "MembershipEnded", "MembershipCorrected"]
PARTNER_EVENTS = ["PartnerRegistered", "PartnerUpdated", "PartnerCorrected"]


@strawberry.type
class MembershipChange:
    """A membership as it stood right after the event at `position` changed it."""

    position: int
    type: str
    recorded_at: datetime
    membership: Membership | None


@strawberry.type
class PartnerChange:
    """A partner as it stood right after the event at `position` changed it."""

    position: int
    type: str
    recorded_at: datetime
    partner: Partner | None


async def _check_position(info: Info, after: int | None) -> None:
    if after is None:
        return
    if after < 0:
        raise bad_input(f"after ({after}) is a log position: 0 or more")
    services = info.context.services
    if after <= services.feed.known_head:
        return  # many subscribers resuming near the head cost no read
    head = (await patiently(services.store.head)).position
    if after > head:
        raise bad_input(
            f"after ({after}) is beyond the log's head ({head}): this log never had that"
            " position (was it restored or replaced?); resume from a position you were sent"
        )


async def _check_filters(info: Info, types: list[str] | None, streams: list[str] | None) -> None:
    store = info.context.services.store
    unknown = sorted({name for name in types or [] if name not in store.types})
    if unknown:
        raise bad_input(
            f"unknown event types {unknown}; the log knows {', '.join(store.types.names())}"
        )
    for stream in streams or []:
        if await patiently(functools.partial(store.stream_version, stream)) is None:
            raise bad_input(f"no stream {stream!r} in the log")


async def _check_partners(info: Info, **keys: str | None) -> None:
    """Each given key names a partner on record (the subscription would wait forever)."""
    given = {argument: key for argument, key in keys.items() if key is not None}
    if not given:
        return
    fetch = by_key(tables.partners)

    async def read() -> dict[str, Any]:
        async with info.context.services.engine.connect() as connection:
            return await fetch(connection, list(given.values()), Basis())

    found = await patiently(read)
    for argument, key in given.items():
        if key not in found:
            raise bad_input(f"{argument}: no partner with the key {key!r}")


async def _follow(
    info: Info,
    after: int | None,
    types: list[str] | None,
    streams: list[str] | None,
) -> AsyncIterator[RecordedEvent]:
    await _check_position(info, after)
    services, window = info.context.services, info.context.window
    if window.after is not None:
        after = window.after
    until = None
    if window.join is not None:
        if after is None:
            after = (await services.store.head()).position
        until = await window.join(after)
    try:
        found = services.feed.follow(after, until=until, types=types, streams=streams)
        async for event in found:
            if not window.shared:
                check_may_read(info)
            # Nested fields must read what this event made, not an earlier snapshot.
            await info.context.refresh()
            window.position, window.recorded_at = event.position, event.recorded_at
            window.event_type, window.stream_id = event.type, event.stream_id
            yield event
            # Its answer is sent: hold no connection while waiting for the next event.
            await info.context.close()
    finally:
        await info.context.close()


async def _row_at(info: Info, table: str, key: str, position: int) -> dict[str, object] | None:
    fetch = by_key(getattr(tables, table))

    async def read() -> dict[str, Any]:
        try:
            async with info.context.db() as connection:
                return await fetch(connection, [key], Basis(position=position))
        except Exception:
            await info.context.refresh()  # let a connection the database cut go
            raise

    found = await patiently(read)
    row: dict[str, object] | None = found.get(key)
    return row


@strawberry.type
class FeedSubscription:
    @strawberry.subscription(description="Every matching event after `after`, then live.")
    async def events(
        self,
        info: Info,
        after: int | None = None,
        stream_ids: list[str] | None = None,
        types: list[str] | None = None,
    ) -> AsyncGenerator[Event, None]:
        await _check_filters(info, types, stream_ids)
        if info.context.window.unfiltered:
            types = stream_ids = None  # each subscriber applies its own
        async for event in _follow(info, after, types, stream_ids):
            yield Event.from_recorded(event)

    @strawberry.subscription(
        description="Each change to a membership (of a network and/or a member, when given)."
    )
    async def membership_changes(
        self,
        info: Info,
        network: str | None = None,
        member: str | None = None,
        after: int | None = None,
    ) -> AsyncGenerator[MembershipChange, None]:
        await _check_partners(info, network=network, member=member)
        streams = [f"membership:{member}@{network}"] if member and network else None
        async for event in _follow(info, after, MEMBERSHIP_EVENTS, streams):
            data = event.data
            if (network and data["network"] != network) or (member and data["member"] != member):
                continue
            basis = Basis(position=event.position)
            row = await _row_at(info, "memberships", data["membership_id"], event.position)
            yield MembershipChange(
                position=event.position,
                type=event.type,
                recorded_at=event.recorded_at,
                membership=Membership.from_row(row, basis) if row else None,
            )

    @strawberry.subscription(description="Each change to a partner (one partner, when given).")
    async def partner_changes(
        self, info: Info, key: str | None = None, after: int | None = None
    ) -> AsyncGenerator[PartnerChange, None]:
        await _check_partners(info, key=key)
        streams = [f"partner:{key}"] if key else None
        async for event in _follow(info, after, PARTNER_EVENTS, streams):
            basis = Basis(position=event.position)
            row = await _row_at(info, "partners", event.data["key"], event.position)
            yield PartnerChange(
                position=event.position,
                type=event.type,
                recorded_at=event.recorded_at,
                partner=Partner.from_row(row, basis) if row else None,
            )
