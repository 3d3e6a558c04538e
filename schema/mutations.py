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
from schema.nodes import parse_global_id
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
    """A GraphQL input with the command's own fields, optional where the command has a default;
    a command on something already recorded takes its global `id` instead of its key."""
    command = rule.command
    hints = typing.get_type_hints(command)
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    identity = command.identity[1] if command.identity else None
    if identity is not None:
        annotations["id"] = strawberry.ID
    for field in dataclasses.fields(command):
        if field.name in BASE_FIELDS or field.name == identity:
            continue
        kind = hints[field.name]
        annotations[field.name] = kind if _required(field) else kind | None
        if not _required(field):
            defaults[field.name] = None
    reason = str if _required(_field(command, "reason")) else str | None
    annotations |= {
        "source": SourceInput | None,
        "reason": reason,
        "expected_version": int | None,
        "idempotency_key": str | None,
    }
    defaults |= dict.fromkeys(("source", "expected_version", "idempotency_key"))
    if reason is not str:
        defaults["reason"] = None
    namespace = {"__annotations__": annotations, **defaults, "__doc__": rule.description}
    return strawberry.input(type(f"{command.__name__}Input", (), namespace))


def _field(command: type[c.Command], name: str) -> dataclasses.Field[Any]:
    return next(field for field in dataclasses.fields(command) if field.name == name)


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


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
    shown = "as it stood just before" if rule.returns.as_before else "as it now stands"
    doc = (
        f"What {command.__name__} wrote: the {field_name} {shown}, the last log position"
        " written (`position`), and the stream's new version. `replayed` is true when this was"
        f" a retry of a request already written; the {field_name} is then shown as the first"
        " write left it."
    )
    namespace = {"__annotations__": annotations, "__doc__": doc}
    return strawberry.type(type(f"{command.__name__}Payload", (), namespace))


def to_command(command: type[c.Command], given: Any) -> c.Command:
    """The command an input stands for; fields left out keep the command's defaults."""
    values: dict[str, Any] = {}
    if command.identity is not None:
        kind, field_name = command.identity
        values[field_name] = _key_of(given.id, OBJECTS[kind].name)
    for field in dataclasses.fields(command):
        value = getattr(given, field.name, None)
        if value is None or field.name in values:
            continue
        if field.name == "source":
            value = SourceRef(document=value.document, section=value.section)
        values[field.name] = value
    values.setdefault("source", UNSOURCED)
    try:
        return command(**values)
    except (TypeError, ValueError) as error:
        raise bad_input(str(error)) from None


def _key_of(id: str, type_name: str) -> str:
    """The key inside a global id, which must be one of `type_name`."""
    given_type, key = parse_global_id(id)
    if given_type != type_name:
        raise bad_input(f"{id!r} is the id of a {given_type}; this input takes a {type_name}'s id")
    return key


async def _result(info: Info, returns: Returns, outcome: Outcome) -> Any:
    """The object as the write left it (as the first write left it, for a replayed retry), or
    as it stood just before, for a command that leaves nothing (a retraction)."""
    object_type = OBJECTS[returns.kind]
    if returns.as_before:
        basis = Basis(position=outcome.first_position - 1)
    elif outcome.replayed:
        basis = Basis(position=outcome.last_position)
    else:
        basis = Basis()
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
