"""The selection a compiled read walks (see schema/compiled.py).

The fields an object type is asked for in the operation, with their arguments; the basis and
page a field's arguments ask for; the parameters the statement binds and the fields left to
the resolvers.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo, get_named_type
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.values import get_argument_values

from projections.queries.basis import MAX_LIMIT, Basis
from schema.basis import When, basis_for
from schema.compiled_sql import NotCompilable, Sql
from schema.grafting import Deferred
from schema.pagination import Paging, decode_cursor


def object_type(type_: Any) -> GraphQLObjectType:
    """The object type a field gives (through lists and non-nulls)."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompilable(str(named))
    return named


@dataclass(frozen=True)
class Field:
    """One field of the selection: its name, arguments and the nodes asking for it."""

    name: str
    arguments: dict[str, Any]
    details: FieldDetailsList


class Selection:
    """What a planner reads of the operation: the fields asked, their basis and paging; and
    what it writes beside the SQL (the parameters bound, the fields left to the resolvers)."""

    def __init__(self, executor: Any, info: GraphQLResolveInfo[Any], postgres: bool) -> None:
        self.executor = executor
        self.info = info
        self.sql = Sql(postgres)
        self.context = info.context
        self.names = (f"t{n}" for n in itertools.count())
        self.parameters: dict[str, Any] = {}
        self.deferred: list[Deferred] = []

    def fields(self, type_: GraphQLObjectType, details: FieldDetailsList) -> dict[str, Field]:
        collected = self.executor.collect_subfields(type_, details)
        if collected.new_defer_usages:
            raise NotCompilable("@defer")
        found = {}
        for response, group in collected.grouped_field_set.items():
            node = group[0].node
            if node.directives and any(
                d.name.value not in {"skip", "include"} for d in node.directives
            ):
                raise NotCompilable("directives")
            name = node.name.value
            definition = type_.fields.get(name) if name != "__typename" else None
            arguments = (
                get_argument_values(
                    definition,
                    node,
                    self.executor.variable_values,
                    group[0].fragment_variable_values,
                )
                if definition is not None
                else {}
            )
            found[response] = Field(name, arguments, group)
        return found

    def bind(self, value: Any) -> str:
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        return f":{name}"

    async def basis(self, arguments: Mapping[str, Any], inherited: Basis) -> Basis:
        when = When(
            arguments.get("asOf"),
            arguments.get("during"),
            arguments.get("knownAt"),
            arguments.get("atPosition"),
        )
        if when == When():
            return inherited
        try:
            return await basis_for(self.info, when, inherited)  # type: ignore[arg-type]
        except Exception as error:
            raise NotCompilable("the resolvers say what is wrong with this basis") from error

    def paging(self, arguments: Mapping[str, Any]) -> tuple[int, Paging, str | None, str | None]:
        paging = Paging(
            arguments.get("first"),
            arguments.get("after"),
            arguments.get("last"),
            arguments.get("before"),
        )
        maximum = self.context.services.settings.max_page_size
        asked = paging.first if paging.first is not None else paging.last
        if paging.first is not None and paging.last is not None:
            raise NotCompilable("first and last")
        if asked is not None and not 0 <= asked <= maximum:
            raise NotCompilable("page size")
        try:
            after, before = decode_cursor(paging.after), decode_cursor(paging.before)
        except Exception as error:
            raise NotCompilable("cursor") from error
        size = maximum if asked is None else asked
        return max(0, min(size, MAX_LIMIT)), paging, after, before
