"""Feed subscriptions compiled once into plans that make each event's answer directly.

A subscription shared by many subscribers is answered once per event. For the selections
clients use most (an event's own fields; a change's position, type and record time), that
answer depends on the event alone, so the selection is read once into a plan: which
response keys, in which order, take which of the event's values. The plan then makes the
answer's JSON straight from the event, the same bytes GraphQL execution makes (a test
holds the two equal), with no execution per event. A selection the plan does not cover
(fragments, directives, nested objects, `metadata`) gives no plan: the caller executes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    get_operation_ast,
    parse,
    value_from_ast_untyped,
)

from events.model import RecordedEvent
from schema.feed import MEMBERSHIP_EVENTS, PARTNER_EVENTS

_encode = msgspec.json.Encoder().encode

Value = Callable[[RecordedEvent], Any]

# The Event type's fields, as GraphQL serializes them (DateTime is `isoformat`; `metadata`
# is for auditors only, and checked per subscriber, so it is not planned).
EVENT_FIELDS: dict[str, Value] = {
    "__typename": lambda _: "Event",
    "position": lambda e: e.position,
    "streamId": lambda e: e.stream_id,
    "streamVersion": lambda e: e.stream_version,
    "eventId": lambda e: str(e.event_id),
    "type": lambda e: e.type,
    "schemaVersion": lambda e: e.schema_version,
    "data": lambda e: e.data,
    "recordedAt": lambda e: e.recorded_at.isoformat(),
    "prevHash": lambda e: e.prev_hash,
    "hash": lambda e: e.hash,
}


def _change_fields(typename: str) -> dict[str, Value]:
    return {
        "__typename": lambda _: typename,
        "position": lambda e: e.position,
        "type": lambda e: e.type,
        "recordedAt": lambda e: e.recorded_at.isoformat(),
    }


def _any(_event: RecordedEvent, _arguments: Mapping[str, Any]) -> bool:
    return True


def _membership_changed(event: RecordedEvent, arguments: Mapping[str, Any]) -> bool:
    if event.type not in MEMBERSHIP_EVENTS:
        return False
    network, member = arguments.get("network"), arguments.get("member")
    if member and network and event.stream_id != f"membership:{member}@{network}":
        return False
    data = event.data
    return not (network and data["network"] != network) and not (
        member and data["member"] != member
    )


def _partner_changed(event: RecordedEvent, arguments: Mapping[str, Any]) -> bool:
    key = arguments.get("key")
    return event.type in PARTNER_EVENTS and (not key or event.stream_id == f"partner:{key}")


@dataclass(frozen=True)
class Feed:
    """A subscription root field a plan can answer: its object's fields, which events it
    answers (given the field's arguments), and the arguments it reads."""

    fields: dict[str, Value]
    answers: Callable[[RecordedEvent, Mapping[str, Any]], bool]
    arguments: frozenset[str]


FEEDS = {
    # The events feed's own filters (types, streamIds) are applied per subscriber.
    "events": Feed(EVENT_FIELDS, _any, frozenset()),
    "membershipChanges": Feed(
        _change_fields("MembershipChange"), _membership_changed, frozenset({"network", "member"})
    ),
    "partnerChanges": Feed(_change_fields("PartnerChange"), _partner_changed, frozenset({"key"})),
}


@dataclass(frozen=True)
class Plan:
    """One subscription's answer to an event, made without executing it."""

    root: str  # the root field's response key
    keys: tuple[tuple[str, Value], ...]
    feed: Feed
    arguments: Mapping[str, Any]

    def answers(self, event: RecordedEvent) -> bool:
        """Whether the subscription answers this event at all."""
        return self.feed.answers(event, self.arguments)

    def answer(self, event: RecordedEvent) -> bytes:
        """The answer's payload as JSON, as `{"data": ...}` from executing it."""
        fields = {key: value(event) for key, value in self.keys}
        return _encode({"data": {self.root: fields}})


def plan(
    query: str, variables: Mapping[str, Any] | None, operation_name: str | None
) -> Plan | None:
    """The plan of a valid subscription document, or None where it does not cover it."""
    found = subscription_of(query, operation_name)
    if found is None:
        return None
    operation = found[1]
    roots = operation.selection_set.selections
    if operation.directives or len(roots) != 1 or not isinstance(roots[0], FieldNode):
        return None
    root = roots[0]
    feed = FEEDS.get(root.name.value)
    if feed is None or root.directives or root.selection_set is None:
        return None
    given = with_defaults(operation, variables)
    arguments: dict[str, Any] = {}
    for argument in root.arguments or ():
        name = argument.name.value
        if name in feed.arguments:
            value = argument.value
            if isinstance(value, VariableNode) and value.name.value not in given:
                continue  # left out: as if not given
            arguments[name] = value_from_ast_untyped(value, given)
    keys: dict[str, Value] = {}
    for selection in root.selection_set.selections:
        if not isinstance(selection, FieldNode) or selection.directives or selection.arguments:
            return None
        made = feed.fields.get(selection.name.value)
        if made is None or selection.selection_set is not None:
            return None
        # The same response key twice is the same field (the document is valid): once.
        keys.setdefault((selection.alias or selection.name).value, made)
    return Plan((root.alias or root.name).value, tuple(keys.items()), feed, arguments)


def subscription_of(
    query: str, operation_name: str | None
) -> tuple[DocumentNode, OperationDefinitionNode] | None:
    """The document and its operation, when it is a subscription that parses."""
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.SUBSCRIPTION:
        return None
    return document, operation


def with_defaults(
    operation: OperationDefinitionNode, variables: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The variables, with the defaults their definitions declare for those left out (as
    execution sees them)."""
    given = dict(variables or {})
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in given and definition.default_value is not None:
            given[name] = value_from_ast_untyped(definition.default_value)
    return given
