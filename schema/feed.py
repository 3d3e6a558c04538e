"""Subscriptions: the log as a live, resumable feed."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from schema.context import Info
from schema.log import Event


@strawberry.type
class FeedSubscription:
    @strawberry.subscription(
        description="Every matching event after `after`, then live, in position order."
        " Without `after`, from now on. Resume with the last position seen."
    )
    async def events(
        self,
        info: Info,
        after: int | None = None,
        stream_ids: list[str] | None = None,
        types: list[str] | None = None,
    ) -> AsyncGenerator[Event, None]:
        feed = info.context.services.feed
        async for event in feed.follow(after, types=types, streams=stream_ids):
            yield Event.from_recorded(event)
