"""The fields of a compiled answer that the resolvers answer, grafted into it.

Where the planner meets a field it cannot compile (provenance, roles, activities, ...), the
statement puts in that field's place a marker: which field it is, and the row of the object
asking for it. Here each marker's object is made from its row as a loader would make it, the
field is executed by the resolvers on it (all markers at once, so their loaders batch), and
the value takes the marker's place: same key, same place among its siblings, the same path
for any error. An error that nulls a non-null field nulls the nearest nullable place above
it, as the resolvers' own execution would; errors already recorded inside that place are
left out of the response with it (`PlacedErrors` in schema/compiled.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLOutputType, is_non_null_type
from graphql.error import located_error
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path

from projections.queries.basis import Basis

if TYPE_CHECKING:
    from schema.compiled import Compiled

# The keys of a marker; no response key can start with "@".
DEFERRED = "@d"
ROW = "@r"

# The types of the places from a root field's value down to one field, one per path step.
Trail = tuple[GraphQLOutputType, ...]


@dataclass(frozen=True)
class Deferred:
    """A field the resolvers answer: on which type, as selected, on which basis, and the types
    of the places above it."""

    parent: GraphQLObjectType
    details: FieldDetailsList
    basis: Basis
    trail: Trail


@dataclass
class Place:
    """Where a value sits in the answer: its container, its key there, and its path."""

    container: Any
    key: str | int
    path: Path


def markers(value: Any, path: Path, above: tuple[Place, ...]) -> Iterator[tuple[Place, ...]]:
    """The places of every marker under `value`, each with the places above it."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(item, dict):
            place = Place(value, key, path.add_key(key))
            if DEFERRED in item:
                yield (*above, place)
            else:
                yield from markers(item, place.path, (*above, place))
        elif isinstance(item, list) and item and isinstance(item[0], dict):
            place = Place(value, key, path.add_key(key))
            yield from markers(item, place.path, (*above, place))


def parent_of(deferred: Deferred, row: dict[str, Any]) -> Any:
    """The object asking for the field, as a loader's row would make it."""
    from schema.objects import BY_NAME

    row["recorded_from"] = datetime.fromisoformat(row["recorded_from"])
    return BY_NAME[deferred.parent.name].make(row, deferred.basis)


async def graft(
    executor: Any,
    compiled: Compiled,
    root_type: GraphQLOutputType,
    root_details: FieldDetailsList,
    root_path: Path,
) -> Any:
    """The compiled answer with each marker replaced by the resolvers' answer to its field."""
    answer = compiled.answer
    found = list(markers(answer, root_path, ()))
    results = await asyncio.gather(
        *(_resolve(executor, compiled.deferred, places) for places in found),
        return_exceptions=True,
    )
    for places, result in zip(found, results, strict=True):
        if not isinstance(result, BaseException):
            places[-1].container[places[-1].key] = result
            continue
        if not isinstance(result, Exception):
            raise result
        trail = compiled.deferred[places[-1].container[places[-1].key][DEFERRED]].trail
        if not _null_above(executor, result, places, trail):
            # Nothing nullable below the root field: the field itself takes the error.
            executor.handle_field_error(result, root_type, root_details, root_path)
            return None
    return answer


async def _resolve(executor: Any, deferred: list[Deferred], places: tuple[Place, ...]) -> Any:
    place = places[-1]
    marker = place.container[place.key]
    field = deferred[int(marker[DEFERRED])]
    try:
        parent = parent_of(field, marker[ROW])
    except Exception as error:
        # A row the planner got wrong: an internal error at the field's place (masked and
        # logged), nulling the field or, when it is non-null, the place above it.
        definition = field.parent.fields[field.details[0].node.name.value]
        executor.handle_field_error(error, definition.type, field.details, place.path)
        return None
    result = executor.execute_field(field.parent, parent, field.details, place.path, None)
    return await result if executor.is_awaitable(result) else result


def _null_above(
    executor: Any,
    error: Exception,
    places: tuple[Place, ...],
    trail: Trail,
) -> bool:
    """Null the nearest nullable place above a non-null field that failed, recording the
    error there; False when there is none below the root field."""
    # trail[0] is the root field's own type; places[i] has the type trail[i + 1].
    for depth in range(len(places) - 2, -1, -1):
        if not is_non_null_type(trail[depth + 1]):
            place = places[depth]
            place.container[place.key] = None
            located = error if isinstance(error, GraphQLError) else located_error(error)
            executor.collected_errors.add(located, place.path)
            return True
    return False
