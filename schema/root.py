"""The schema: root types composed from one class per area."""

from __future__ import annotations

from functools import partial

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.feed import FeedSubscription
from schema.log import LogQuery


@strawberry.type
class Query(LogQuery):
    pass


@strawberry.type
class Subscription(FeedSubscription):
    pass


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        extensions=[partial(ParserCache, maxsize=512), partial(ValidationCache, maxsize=512)],
    )
