"""The subscription a subscriber sends, and the group it belongs to (see service/fanout.py).

`subscription` parses an operation and takes out of it what is each subscriber's own (where
it starts, and an `events` feed's `types` and `streamIds`, kept as its `EventFilter`): what
is left, with the role, is the key of the group that shares one execution of it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    REMOVE,
    ArgumentNode,
    FieldNode,
    VariableNode,
    print_ast,
    value_from_ast_untyped,
    visit,
)
from graphql.language import Visitor

from schema.feed_plans import subscription_of, with_defaults

if TYPE_CHECKING:
    from service.fanout_answers import Answer


@dataclass(frozen=True)
class EventFilter:
    """The `types` and `streamIds` of an `events` subscription, applied by its subscriber
    to its group's answers: the answer to an event does not depend on them, so subscribers
    that differ only there share one execution."""

    types: frozenset[str] | None
    streams: frozenset[str] | None

    @classmethod
    def of(cls, arguments: dict[str, Any]) -> EventFilter | None:
        def wanted(value: Any) -> frozenset[str] | None:
            if isinstance(value, str):  # GraphQL takes one value where a list is expected
                value = [value]
            # As the change feed reads them: absent or empty is no filter.
            return frozenset(value) if isinstance(value, list) and value else None

        found = cls(wanted(arguments.get("types")), wanted(arguments.get("streamIds")))
        return None if found.types is None and found.streams is None else found

    def wants(self, answer: Answer) -> bool:
        return (self.types is None or answer.type in self.types) and (
            self.streams is None or answer.stream_id in self.streams
        )


@dataclass(frozen=True)
class Operation:
    """A subscription as a client sent it, and the group it belongs to."""

    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    key: tuple[str, str | None, str, str | None]
    filter: EventFilter | None = None  # applied per subscriber (an `events` feed)


def subscription(
    query: str, variables: dict[str, Any] | None, operation_name: str | None, role: str | None
) -> Operation | None:
    """The operation, when it is a subscription that parses; None for anything else."""
    parsed = subscription_of(query, operation_name)
    if parsed is None:
        return None
    document, found = parsed
    shared = dict(variables or {})
    # Where each subscriber starts is its own; what it is sent from then on is the group's.
    # The events feed's filters are each subscriber's own too (EventFilter).
    roots = {
        id(field): OWN_ARGUMENTS.get(field.name.value, {"after"})
        for field in found.selection_set.selections
        if isinstance(field, FieldNode)
    }
    own: dict[str, Any] = {}
    # A variable the client left out takes the default its definition declares, as in
    # execution: a filter given only as a default is still this subscriber's filter.
    given = with_defaults(found, variables)

    class WithoutOwnArguments(Visitor):
        def enter_argument(
            self, node: ArgumentNode, _key: Any, _parent: Any, _path: Any, ancestors: Any
        ) -> object:
            if node.name.value not in roots.get(id(ancestors[-1]), ()):
                return None
            if isinstance(node.value, VariableNode):
                shared.pop(node.value.name.value, None)
            own[node.name.value] = value_from_ast_untyped(node.value, given)
            return REMOVE

    document = visit(document, WithoutOwnArguments())
    key = (print_ast(document), operation_name, json.dumps(shared, sort_keys=True), role)
    return Operation(query, variables, operation_name, key, EventFilter.of(own))


# The root fields' arguments that are each subscriber's own, not its group's.
OWN_ARGUMENTS = {"events": {"after", "types", "streamIds"}}
