"""Mutations: one per command, each taking one `input` and returning what it wrote.

The inputs mirror the commands field for field (they are made from the command classes,
so the two cannot drift apart), plus `source`, `reason`, `expectedVersion` and
`idempotencyKey`. A refused command writes nothing and answers with a coded error.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from domain import commands as c
from domain.errors import ErrorCode
from domain.handling import Outcome
from domain.rules import Returns, Rule, declared
from domain.rules.sources import DIRECT_ENTRY
from events.dates import PartialDate
from events.model import SourceRef
from projections.queries.basis import Basis
from schema.context import Info
from schema.errors import bad_input, coded_error
from schema.objects import OBJECTS

UNSOURCED = SourceRef(document=DIRECT_ENTRY)
BASE_FIELDS = {"source", "reason", "expected_version", "idempotency_key"}


@strawberry.input(description="Where the fact comes from: a registered source and a section.")
class SourceInput:
    document: str
    section: str | None = None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _input_type(rule: Rule[Any]) -> type:
    """A GraphQL input with the command's own fields, optional where the command has a default."""
    command = rule.command
    hints = typing.get_type_hints(command)
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    for field in dataclasses.fields(command):
        if field.name in BASE_FIELDS:
            continue
        required = field.default is dataclasses.MISSING and (
            field.default_factory is dataclasses.MISSING
        )
        kind = hints[field.name]
        annotations[field.name] = kind if required else kind | None
        if not required:
            defaults[field.name] = None
    annotations |= {
        "source": SourceInput | None,
        "reason": str | None,
        "expected_version": int | None,
        "idempotency_key": str | None,
    }
    defaults |= dict.fromkeys(("source", "reason", "expected_version", "idempotency_key"))
    namespace = {"__annotations__": annotations, **defaults, "__doc__": rule.description}
    return strawberry.input(type(f"{command.__name__}Input", (), namespace))


def _payload_type(rule: Rule[Any]) -> type:
    command, field_name = rule.command, str(rule.returns.kind)
    annotations: dict[str, Any] = {
        field_name: OBJECTS[rule.returns.kind].graphql | None,
        "stream_id": str,
        "stream_version": int,
        "position": int,
        "first_position": int,
        "replayed": bool,
    }
    doc = (
        f"What {command.__name__} wrote: the {field_name} as it now stands, the last log position"
        " written (`position`), and the stream's new version. `replayed` is true when this was"
        f" a retry of a request already written; the {field_name} is then as the first write"
        " left it."
    )
    namespace = {"__annotations__": annotations, "__doc__": doc}
    return strawberry.type(type(f"{command.__name__}Payload", (), namespace))


def to_command(command: type[c.Command], given: Any) -> c.Command:
    """The command an input stands for; fields left out keep the command's defaults."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(command):
        value = getattr(given, field.name, None)
        if value is None:
            continue
        if field.name == "source":
            value = SourceRef(document=value.document, section=value.section)
        values[field.name] = value
    values.setdefault("source", UNSOURCED)
    try:
        return command(**values)
    except (TypeError, ValueError) as error:
        raise bad_input(str(error)) from None


async def _result(info: Info, returns: Returns, outcome: Outcome) -> Any:
    """The object as the write left it: now, or for a replayed retry, as the first write
    left it (what the first response showed, whatever was recorded since)."""
    object_type = OBJECTS[returns.kind]
    basis = Basis(position=outcome.last_position) if outcome.replayed else Basis()
    key = returns.key_of(outcome.events[0].data)
    found = await object_type.loader.load(info.context, basis, key)
    return None if found is None else object_type.make(found, basis)


def _check_writer(info: Info) -> str:
    if info.context.services.settings.read_only:
        raise coded_error(
            ErrorCode.FORBIDDEN,
            "this instance serves the record read-only (COOP_READ_ONLY); it records nothing",
        )
    principal = info.context.principal
    if not principal.authenticated:
        raise coded_error(
            ErrorCode.UNAUTHENTICATED,
            "recording needs an editor or admin token (Authorization: Bearer <token>)",
        )
    if not principal.may_write or principal.actor is None:
        raise coded_error(
            ErrorCode.FORBIDDEN,
            f"the {principal.role} role may read but not record; use an editor or admin token",
        )
    return principal.actor


def _resolver(rule: Rule[Any], input_type: type, payload: type) -> Callable[..., Awaitable[Any]]:
    command, field_name = rule.command, str(rule.returns.kind)

    async def mutate(info: Info, input: Any) -> Any:
        actor = _check_writer(info)
        outcome = await info.context.services.commands.execute(to_command(command, input), actor)
        await info.context.refresh()  # read what was just written, not an older snapshot
        return payload(
            **{field_name: await _result(info, rule.returns, outcome)},
            stream_id=outcome.stream_id,
            stream_version=outcome.stream_version,
            position=outcome.last_position,
            first_position=outcome.first_position,
            replayed=outcome.replayed,
        )

    mutate.__annotations__ = {"info": Info, "input": input_type, "return": payload}
    mutate.__name__ = _snake(command.__name__)
    return mutate


def _mutation_fields() -> dict[str, StrawberryField]:
    fields = {}
    for rule in declared():
        resolver = _resolver(rule, _input_type(rule), _payload_type(rule))
        fields[_snake(rule.command.__name__)] = strawberry.mutation(
            resolver=resolver, description=rule.description
        )
    return fields


Mutation = strawberry.type(type("Mutation", (), _mutation_fields()))

# PartialDate is named here so the input types' hints resolve to the scalar.
__all__ = ["Mutation", "PartialDate", "to_command"]
