"""The schema: root types composed from one class per area, with the request limits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

import strawberry
from graphql import GraphQLError, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from schema.audit import AuditQuery
from schema.compiled import CompilingExecutor
from schema.extensions import RequestScope, coded
from schema.feed import FeedSubscription
from schema.log import LogQuery
from schema.mutations import Mutation
from schema.objects import OBJECTS
from schema.parsing import SharedParserCache
from schema.queries import RecordQuery
from schema.scalars import SCALARS
from schema.validation import RulesForTheDocument

NODE_TYPES = [object_type.graphql for object_type in OBJECTS.values()]


@strawberry.type
class Query(RecordQuery, LogQuery, AuditQuery):
    pass


@strawberry.type
class Subscription(FeedSubscription):
    pass


class CoopSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Code every error and mask unexpected ones (logging them) in place, before any
        transport sends them: over WebSocket a result is sent before the operation's
        extensions finish. Client errors need no log."""
        errors[:] = [coded(error) for error in errors]


@dataclass(frozen=True)
class Limits:
    """How large a request may be: query depth, aliases, tokens; whether the schema may be
    introspected."""

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    introspection: bool = True


def limit_rules(limits: Limits) -> list[Any]:
    """The depth and alias rules (and, where it is off, the one refusing introspection), made
    once per schema: the validation cache is keyed by the rule classes, and a limiter made
    per request makes new ones, so nothing would hit."""
    depth = QueryDepthLimiter(max_depth=limits.max_query_depth)
    aliases = MaxAliasesLimiter(max_alias_count=limits.max_aliases)
    rules: list[Any] = [*depth.validation_rules, *aliases.validation_rules]
    if not limits.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def build_schema(limits: Limits | None = None) -> strawberry.Schema:
    limits = limits or Limits()
    return CoopSchema(
        execution_context_class=CompilingExecutor,
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=NODE_TYPES,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            RequestScope,
            partial(AddValidationRules, limit_rules(limits)),
            partial(MaxTokensLimiter, max_token_count=limits.max_tokens),
            SharedParserCache,
            RulesForTheDocument,
            partial(ValidationCache, maxsize=512),
        ],
    )
