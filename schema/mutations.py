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
from graphql import GraphQLError
from strawberry.types.field import StrawberryField

from domain import commands as c
from domain.handling import Outcome
from domain.rules.sources import DIRECT_ENTRY
from events.dates import PartialDate
from events.model import SourceRef
from projections.queries.basis import Basis
from schema.activities import Activity, Commitment
from schema.context import Info
from schema.loaders import load
from schema.memberships import Membership, Role
from schema.partners import Body, Partner
from schema.programs import Participation, Program
from schema.sources import Source

UNSOURCED = SourceRef(document=DIRECT_ENTRY)
BASE_FIELDS = {"source", "reason", "expected_version", "idempotency_key"}


@strawberry.input(description="Where the fact comes from: a registered source and a section.")
class SourceInput:
    document: str
    section: str | None = None


# What each command's payload shows: (field name, GraphQL type, loader, event field with the key).
RESULTS: dict[type[c.Command], tuple[str, Any, str, str]] = {
    c.RegisterSource: ("source", Source, "source", "key"),
    c.RegisterPartner: ("partner", Partner, "partner", "key"),
    c.UpdatePartner: ("partner", Partner, "partner", "key"),
    c.CorrectPartner: ("partner", Partner, "partner", "key"),
    c.StartMembership: ("membership", Membership, "membership", "membership_id"),
    c.EndMembership: ("membership", Membership, "membership", "membership_id"),
    c.CorrectMembership: ("membership", Membership, "membership", "membership_id"),
    c.RegisterBody: ("body", Body, "bodies_of", "network"),
    c.RecordBodySize: ("body", Body, "bodies_of", "network"),
    c.AssignRole: ("role", Role, "role", "role_id"),
    c.EndRole: ("role", Role, "role", "role_id"),
    c.CorrectRole: ("role", Role, "role", "role_id"),
    c.LaunchProgram: ("program", Program, "program", "key"),
    c.ConcludeProgram: ("program", Program, "program", "key"),
    c.CorrectProgram: ("program", Program, "program", "key"),
    c.JoinProgram: ("participation", Participation, "participation", "participation_id"),
    c.LeaveProgram: ("participation", Participation, "participation", "participation_id"),
    c.RecordActivity: ("activity", Activity, "activity", "key"),
    c.CorrectActivity: ("activity", Activity, "activity", "key"),
    c.AnnounceCommitment: ("commitment", Commitment, "commitment", "key"),
    c.CorrectCommitment: ("commitment", Commitment, "commitment", "key"),
}


DESCRIPTIONS: dict[type[c.Command], str] = {
    c.RegisterSource: "Register a document facts are taken from, with its sections.",
    c.RegisterPartner: "Register a city, network, organisation or national body under a new key.",
    c.UpdatePartner: "Record that a partner's details changed in the world (from `effective`).",
    c.CorrectPartner: "Correct a partner's details that were recorded wrongly.",
    c.StartMembership: "Record that a member joined a network (since a partial date).",
    c.EndMembership: "Record that a membership ended.",
    c.CorrectMembership: "Correct a membership's period or notes recorded wrongly.",
    c.RegisterBody: "Register a body of a network (a steering committee).",
    c.RecordBodySize: "Record how many seats a body had as of a date.",
    c.AssignRole: "Record that a member holds a position in a network or one of its bodies.",
    c.EndRole: "Record that a role ended.",
    c.CorrectRole: "Correct a role recorded wrongly.",
    c.LaunchProgram: "Record a cooperation program in a field, with its lead and partners.",
    c.JoinProgram: "Record that a partner joined a program.",
    c.LeaveProgram: "Record that a partner left a program.",
    c.ConcludeProgram: "Record that a program concluded.",
    c.CorrectProgram: "Correct a program recorded wrongly.",
    c.RecordActivity: "Record a workshop, meeting or event on a (partial) date.",
    c.CorrectActivity: "Correct an activity recorded wrongly.",
    c.AnnounceCommitment: "Record what a partner announced, when and where.",
    c.CorrectCommitment: "Correct a commitment recorded wrongly.",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _input_type(command: type[c.Command]) -> type:
    """A GraphQL input with the command's own fields, optional where the command has a default."""
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
    namespace = {"__annotations__": annotations, **defaults, "__doc__": DESCRIPTIONS[command]}
    return strawberry.input(type(f"{command.__name__}Input", (), namespace))


def _payload_type(command: type[c.Command]) -> type:
    field_name, object_type, _, _ = RESULTS[command]
    annotations: dict[str, Any] = {
        field_name: object_type | None,
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
        raise GraphQLError(str(error), extensions={"code": "BAD_USER_INPUT"}) from None


async def _result(info: Info, command: type[c.Command], outcome: Outcome) -> Any:
    """The object as the write left it: now, or for a replayed retry, as the first write
    left it (what the first response showed, whatever was recorded since)."""
    _, object_type, loader, key_field = RESULTS[command]
    data = outcome.events[0].data
    basis = Basis(position=outcome.last_position) if outcome.replayed else Basis()
    found = await load(info.context, loader, basis, data[key_field])
    if object_type is Body:
        return next((Body.from_row(r) for r in found if r["body"] == data["body"]), None)
    if found is None:
        return None
    return (
        object_type.from_row(found) if object_type is Source else object_type.from_row(found, basis)
    )


def _check_writer(info: Info) -> str:
    if info.context.services.settings.read_only:
        raise GraphQLError(
            "this instance serves the record read-only (COOP_READ_ONLY); it records nothing",
            extensions={"code": "FORBIDDEN"},
        )
    principal = info.context.principal
    if not principal.authenticated:
        raise GraphQLError(
            "recording needs an editor or admin token (Authorization: Bearer <token>)",
            extensions={"code": "UNAUTHENTICATED"},
        )
    if not principal.may_write or principal.actor is None:
        raise GraphQLError(
            f"the {principal.role} role may read but not record; use an editor or admin token",
            extensions={"code": "FORBIDDEN"},
        )
    return principal.actor


def _resolver(
    command: type[c.Command], input_type: type, payload: type
) -> Callable[..., Awaitable[Any]]:
    field_name = RESULTS[command][0]

    async def mutate(info: Info, input: Any) -> Any:
        actor = _check_writer(info)
        outcome = await info.context.services.commands.execute(to_command(command, input), actor)
        await info.context.refresh()  # read what was just written, not an older snapshot
        return payload(
            **{field_name: await _result(info, command, outcome)},
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
    for command in RESULTS:
        resolver = _resolver(command, _input_type(command), _payload_type(command))
        fields[_snake(command.__name__)] = strawberry.mutation(
            resolver=resolver, description=DESCRIPTIONS[command]
        )
    return fields


Mutation = strawberry.type(type("Mutation", (), _mutation_fields()))

# PartialDate is named here so the input types' hints resolve to the scalar.
__all__ = ["Mutation", "PartialDate", "to_command"]
