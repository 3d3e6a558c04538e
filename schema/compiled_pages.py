"""Connections in a compiled read (see schema/compiled.py): a page of related rows.

`connection` writes the statement of one page of a connection (its nodes, edges, cursors,
`pageInfo` and `totalCount`) in key order as the resolvers page it, each node's object
written by the planner (schema/compiled_plan.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from graphql import GraphQLList, GraphQLObjectType, GraphQLOutputType, get_nullable_type

from projections.queries.basis import Basis
from schema.compiled_selection import Field, object_type
from schema.compiled_sql import NotCompilable
from schema.grafting import Trail
from schema.pagination import Paging

if TYPE_CHECKING:
    from schema.compiled_plan import Planner


def _list_of(type_: GraphQLOutputType) -> Trail:
    """A list's type and its items' type."""
    listed = get_nullable_type(type_)
    assert isinstance(listed, GraphQLList)
    return type_, listed.of_type


async def connection(
    planner: Planner,
    field: Field,
    type_: GraphQLObjectType,
    table: str,
    where: Callable[[str], str],
    basis: Basis,
    trail: Trail,
) -> str:
    """A page of the rows `where` picks, in key order, as the connection asked for."""
    size, paging, after, before = planner.paging(field.arguments)
    row, page = next(planner.names), next(planner.names)
    node_type = object_type(type_.fields["nodes"].type)
    edge_type = object_type(type_.fields["edges"].type)
    nodes_trail = (*trail, *_list_of(type_.fields["nodes"].type))
    edges_trail = (*trail, *_list_of(type_.fields["edges"].type))
    columns: list[str] = []
    pairs: list[tuple[str, str]] = []
    keep = f"{page}.rn <= {size}"
    order = f"{page}.k, {page}.s"
    cursor = planner.sql.base64(f"'k:' || {page}.k")
    paged = False  # does the answer read the page (else no row of it is needed)?
    for response, part in planner.fields(type_, field.details).items():
        if part.name == "__typename":
            pairs.append((response, f"'{type_.name}'"))
        elif part.name == "nodes":
            paged = True
            column = f"j{len(columns)}"
            columns.append(
                f"{await planner.object(node_type, row, basis, part.details, nodes_trail)}"
                f" AS {column}"
            )
            pairs.append((response, planner.sql.array(f"{page}.{column}", keep, order)))
        elif part.name == "edges":
            paged = True
            edge = []
            for edge_response, edge_part in planner.fields(edge_type, part.details).items():
                if edge_part.name == "__typename":
                    edge.append((edge_response, f"'{edge_type.name}'"))
                elif edge_part.name == "cursor":
                    edge.append((edge_response, cursor))
                else:
                    column = f"j{len(columns)}"
                    node_trail = (*edges_trail, edge_type.fields[edge_part.name].type)
                    node = await planner.object(
                        node_type, row, basis, edge_part.details, node_trail
                    )
                    columns.append(f"{node} AS {column}")
                    value = f"{page}.{column}" if planner.sql.postgres else f"json({page}.{column})"
                    edge.append((edge_response, value))
            pairs.append((response, planner.sql.array(planner.sql.object(edge), keep, order)))
        elif part.name == "pageInfo":
            paged = True
            pairs.append((response, _page_info(planner, part, page, size, paging)))
        elif part.name == "totalCount":
            counted_row = next(planner.names)
            pairs.append(
                (
                    response,
                    f"(SELECT count(*) FROM {table} {counted_row} WHERE {where(counted_row)})",
                )
            )
        else:
            raise NotCompilable(part.name)
    if not paged:
        return planner.sql.nested(f"SELECT {planner.sql.object(pairs)}")
    cursors = []
    if after is not None:
        cursors.append(f"{row}.key > {planner.bind(after)}")
    if before is not None:
        cursors.append(f"{row}.key < {planner.bind(before)}")
    direction = " DESC" if paging.backward else ""
    reading = f"{row}.key{direction}, {row}.slice{direction}"
    selected = ", ".join(
        [
            *columns,
            f"{row}.key AS k",
            f"{row}.slice AS s",
            f"row_number() OVER (ORDER BY {reading}) AS rn",
        ]
    )
    conditions = " AND ".join([where(row), *cursors])
    inner = (
        f"SELECT {selected} FROM {table} {row} WHERE {conditions}"
        f" ORDER BY {reading} LIMIT {size + 1}"
    )
    if paging.backward and not planner.sql.postgres:
        inner = f"SELECT * FROM ({inner}) ORDER BY k, s"
    return planner.sql.nested(f"SELECT {planner.sql.object(pairs)} FROM ({inner}) {page}")


def _page_info(planner: Planner, part: Field, page: str, size: int, paging: Paging) -> str:
    page_info_type = object_type(planner.info.schema.get_type("PageInfo"))
    more = planner.sql.boolean(f"count(*) > {size}")
    pairs = []
    for response, item in planner.fields(page_info_type, part.details).items():
        if item.name == "__typename":
            value = "'PageInfo'"
        elif item.name == "hasNextPage":
            value = planner.sql.constant(paging.before is not None) if paging.backward else more
        elif item.name == "hasPreviousPage":
            value = more if paging.backward else planner.sql.constant(paging.after is not None)
        elif item.name in {"startCursor", "endCursor"}:
            pick = "min" if item.name == "startCursor" else "max"
            value = planner.sql.base64(
                f"'k:' || {pick}({page}.k) FILTER (WHERE {page}.rn <= {size})"
            )
        else:
            raise NotCompilable(item.name)
        pairs.append((response, value))
    return planner.sql.object(pairs)
