"""Bodies of a network (C40's Steering Committee) and their size as of a date."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.commands import RecordBodySize, RegisterBody
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import BodyRegistered, BodySizeRecorded, DomainEvent
from domain.facts import Facts, Plan
from domain.ids import body_key
from domain.rules import partners
from domain.rules.checks import check_key, check_text, optional_text
from domain.rules.declare import Returns, rule
from domain.state.bodies import Body, body
from domain.streams import body_stream, partner_stream
from domain.vocabulary import ObjectKind

MAX_SIZE = 100_000


def _body_key(data: Mapping[str, Any]) -> str:
    return body_key(data["network"], data["body"])


BODY = Returns(ObjectKind.BODY, _body_key)


def require(facts: Facts, network: str, key: str) -> Body:
    found = body(facts, network, key)
    if found is None:
        raise NotFound(f"{network} has no body {key!r}; register the body first")
    return found


def plan_register(command: RegisterBody) -> Plan:
    return Plan(body_stream(command.network, command.body), (partner_stream(command.network),))


@rule(RegisterBody, reads=plan_register, returns=BODY)
def register(facts: Facts, command: RegisterBody) -> list[DomainEvent]:
    network, key = check_key("network", command.network), check_key("body", command.body)
    partners.require_network(facts, network)
    existing = body(facts, network, key)
    if existing is not None:
        raise Conflict(f"{network} already has a body {key!r} ({existing.name!r})")
    return [
        BodyRegistered(
            network=network,
            body=key,
            name=check_text("name", command.name),
            description=optional_text("description", command.description),
        )
    ]


def plan_size(command: RecordBodySize) -> Plan:
    return Plan(body_stream(command.network, command.body))


@rule(RecordBodySize, reads=plan_size, returns=BODY)
def record_size(facts: Facts, command: RecordBodySize) -> list[DomainEvent]:
    found = require(facts, command.network, command.body)
    if not 1 <= command.size <= MAX_SIZE:
        raise ValidationError(f"a body's size must be between 1 and {MAX_SIZE}, not {command.size}")
    return [
        BodySizeRecorded(
            network=found.network, body=found.body, size=command.size, as_of=command.as_of
        )
    ]
