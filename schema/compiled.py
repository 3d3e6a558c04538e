"""Reads compiled to SQL: a root field's whole selection answered by one statement.

The planner walks the validated selection with the schema and writes one SQL statement per
root field that returns the field's response JSON (objects with `json_build_object` or
`json_object`, lists with `json_agg` or `json_group_array`, one correlated subquery per
nested field). The basis, page limits, `totalCount`, `pageInfo`, cursors, ids, partial dates
and `certain` are all computed in SQL, as the resolvers compute them. The planner decides per
subtree: a field of a compiled object that it cannot compile (provenance, roles, activities,
or arguments the resolvers would refuse) is left to the resolvers, and its answer grafted in
its place (schema/grafting.py); a root field whose own selection cannot be compiled is
answered by the resolvers whole. They stay the reference, and a differential test holds the
two paths to the same answers.

The compiler's parts: the executor here runs each compiled statement and answers the rest
with the resolvers; schema/compiled_roots.py says which root fields compile and how they
filter; the planner (schema/compiled_plan.py, on schema/compiled_selection.py) writes a row's
object and its relations, schema/compiled_pages.py a connection's page; schema/compiled_sql.py
holds the SQL that differs per engine and how each type's plain fields read from its row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo, OperationType
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import CollectedErrors
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from domain.errors import DomainError
from schema.compiled_plan import Planner
from schema.compiled_roots import ROOTS, root
from schema.compiled_selection import Field
from schema.compiled_sql import NotCompilable
from schema.grafting import Deferred, graft


@dataclass(frozen=True)
class Compiled:
    """A root field's answer as its statement gave it, and the fields left to the resolvers
    (their places in it hold the rows they are asked of)."""

    answer: Any
    deferred: list[Deferred]


async def compiled_root(executor: Any, info: GraphQLResolveInfo[Any], field: Field) -> Compiled:
    """The root field's answer from one SQL statement; NotCompilable if it cannot be."""
    context = info.context
    postgres = context.services.engine.dialect.name == "postgresql"
    planner = Planner(executor, info, postgres)
    expression = await root(planner, field)
    # As text: the driver would otherwise decode PostgreSQL's json with the slower json module.
    answer_sql = f"CAST({expression} AS text)" if postgres else expression
    statement = text(f"SELECT {answer_sql}").bindparams(**planner.parameters)
    try:
        async with context.db() as connection:
            answer = await connection.scalar(statement)
    except OperationalError as error:
        if "parser stack overflow" not in str(error):
            raise
        # SQLite parses at most about a hundred nested levels; deeper answers are resolved.
        raise NotCompilable("too deep for SQLite") from None
    decoded = None if answer is None else msgspec.json.decode(answer)
    return Compiled(decoded, planner.deferred)


def response_order(data: Any, path: list[str | int] | None) -> tuple[int, ...]:
    """Where a path falls in the answer, as the places of its steps (as far as it is there)."""
    places = []
    for step in path or ():
        if isinstance(data, dict) and step in data:
            places.append(list(data).index(step))
        elif isinstance(data, list) and isinstance(step, int) and step < len(data):
            places.append(step)
        else:
            break
        data = data[step]
    return tuple(places)


Place = tuple[str | int, ...] | None  # a nulled place in the answer; None is all of it


class PlacedErrors(CollectedErrors):
    """The field errors with the place each one nulled (which may be above the error's own
    path, where null propagated to)."""

    def __init__(self) -> None:
        super().__init__()
        self.places: list[Place] = []

    def add(self, error: GraphQLError, path: Path | None) -> None:
        count = len(self.errors)
        super().add(error, path)
        if len(self.errors) > count:
            self.places.append(None if path is None else tuple(path.as_list()))

    def standing(self) -> list[GraphQLError]:
        """The errors whose place is not inside a place another error nulled.

        graphql-core drops an error that arrives after a place above it was nulled, and keeps
        one that arrived before: which ones are kept depends on when each read returned. Its
        value is gone either way, so none of them is reported, whatever the timing.
        """
        nulled = set(self.places)
        return [
            error
            for error, place in zip(self.errors, self.places, strict=True)
            if not _inside(place, nulled)
        ]


def _inside(place: Place, nulled: set[Place]) -> bool:
    if place is None:
        return False
    return None in nulled or any(place[:end] in nulled for end in range(1, len(place)))


class CompilingExecutor(StrawberryGraphQLCoreExecutionContext):
    """Answers the root fields of a query it can compile with one statement each, and the
    rest (and any field whose arguments the resolvers would refuse) with the resolvers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collected_errors = PlacedErrors()

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """Errors in the order of the places they concern in the answer: the order they were
        raised in depends on when each database read came back, and an answer (kept, tagged,
        compared with another path's) should not. Errors inside a nulled place are left out
        (see `PlacedErrors.standing`)."""
        collected = self.collected_errors
        errors = collected.errors
        if isinstance(collected, PlacedErrors):
            errors[:] = collected.standing()
        if len(errors) > 1:
            errors.sort(key=lambda error: response_order(data, error.path))
        return super().build_response(data)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        name = field_details_list[0].node.name.value
        if (
            name in ROOTS
            and parent_type is self.schema.query_type
            and self.operation.operation is OperationType.QUERY
            and self.context_value.services.settings.compile_reads
        ):
            return self._compiled(parent_type, source, field_details_list, path, position_context)
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )

    async def _compiled(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> Any:
        first = field_details_list[0]
        definition = parent_type.fields[first.node.name.value]
        try:
            arguments = get_argument_values(
                definition, first.node, self.variable_values, first.fragment_variable_values
            )
            info = self.build_resolve_info(
                definition, [d.node for d in field_details_list], parent_type, path
            )
            field = Field(first.node.name.value, arguments, field_details_list)
            compiled = await compiled_root(self, info, field)
        except (NotCompilable, GraphQLError, DomainError):
            compiled = None  # the resolvers answer, with the error they give, if any
        except Exception as error:
            self.handle_field_error(error, definition.type, field_details_list, path)
            return None
        if compiled is not None:
            if compiled.deferred and compiled.answer is not None:
                return await graft(self, compiled, definition.type, field_details_list, path)
            return compiled.answer
        found = super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
        return await found if self.is_awaitable(found) else found


__all__ = ["Compiled", "CompilingExecutor", "compiled_root"]
