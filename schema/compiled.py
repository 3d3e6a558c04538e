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
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
from graphql import (
    GraphQLEnumType,
    GraphQLError,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    OperationType,
    get_named_type,
    get_nullable_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.execution.executor import CollectedErrors
from graphql.execution.values import get_argument_values
from graphql.pyutils import Path
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from domain.errors import DomainError
from projections.queries.basis import LIKE_ESCAPE, LIST_COLUMNS, MAX_LIMIT, Basis, contains_pattern
from schema.basis import When, basis_for, root_basis
from schema.grafting import DEFERRED, ROW, Deferred, Trail, graft
from schema.pagination import Paging, decode_cursor


class NotCompilable(Exception):
    """This selection (or its arguments) is answered by the resolvers."""


def object_type(type_: Any) -> GraphQLObjectType:
    """The object type a field gives (through lists and non-nulls)."""
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        raise NotCompilable(str(named))
    return named


# How each object type's plain fields read from its row: a column, or SQL of the row.
Column = Callable[["Sql", str, Basis], str]


@dataclass(frozen=True)
class Sql:
    """What differs between the engines: JSON construction, base64, booleans, dates."""

    postgres: bool

    def object(self, pairs: list[tuple[str, str]]) -> str:
        if self.postgres and len(pairs) > 50:
            raise NotCompilable("json_build_object takes at most 100 arguments")
        function = "json_build_object" if self.postgres else "json_object"
        arguments = ", ".join(f"'{name}', {value}" for name, value in pairs)
        return f"{function}({arguments})"

    def nested(self, select: str) -> str:
        """JSON from a subquery (SQLite forgets that a subquery's text is JSON)."""
        return f"({select})" if self.postgres else f"json(({select}))"

    def boolean(self, condition: str) -> str:
        if self.postgres:
            return f"({condition})"
        return f"json(CASE WHEN {condition} THEN 'true' ELSE 'false' END)"

    def constant(self, value: bool) -> str:
        word = "true" if value else "false"
        return word if self.postgres else f"json('{word}')"

    def json_text(self, column: str) -> str:
        return f"CAST({column} AS json)" if self.postgres else f"json({column})"

    def base64(self, expression: str) -> str:
        if self.postgres:
            encoded = f"encode(convert_to({expression}, 'UTF8'), 'base64')"
            return f"translate({encoded}, E'+/\\n', '-_')"
        return f"coop_base64url({expression})"

    def day(self, day: date) -> str:
        return f"DATE '{day.isoformat()}'" if self.postgres else f"'{day.isoformat()}'"

    def array(self, value: str, keep: str, order: str) -> str:
        if self.postgres:
            return f"coalesce(json_agg({value} ORDER BY {order}) FILTER (WHERE {keep}), '[]')"
        return f"json_group_array(json({value})) FILTER (WHERE {keep})"

    def timestamp(self, column: str) -> str:
        """As Python's isoformat writes a UTC time: microseconds only when there are some."""
        if self.postgres:
            utc = f"({column} AT TIME ZONE 'UTC')"
            return (
                f"""to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || CASE WHEN"""
                f" to_char({utc}, 'US') = '000000' THEN '' ELSE to_char({utc}, '.US') END"
                " || '+00:00'"
            )
        return (
            f"replace(substr({column}, 1, 19), ' ', 'T') || CASE WHEN substr({column}, 21)"
            f" IN ('', '000000') THEN '' ELSE '.' || substr({column}, 21) END || '+00:00'"
        )


def _on_basis(sql: Sql, row: str, basis: Basis) -> str:
    """The rows the record held at the basis position that may hold in its window."""
    if basis.position is None:
        conditions = [f"{row}.record_to IS NULL"]
    else:
        position = int(basis.position)
        conditions = [
            f"{row}.record_from <= {position}",
            f"({row}.record_to IS NULL OR {row}.record_to > {position})",
        ]
    window = basis.window
    if window is not None:
        conditions.append(f"{row}.valid_from_lo <= {sql.day(window[1])}")
        conditions.append(f"{row}.valid_to_hi >= {sql.day(window[0])}")
    return " AND ".join(conditions)


def _certain(sql: Sql, row: str, basis: Basis) -> str:
    window = basis.window
    if window is None:
        return sql.constant(True)
    first, last = sql.day(window[0]), sql.day(window[1])
    return sql.boolean(
        f"{row}.valid_from_hi <= {row}.valid_to_lo AND {row}.valid_from_hi <= {last}"
        f" AND {first} <= {row}.valid_to_lo"
    )


def _column(name: str) -> Column:
    return lambda sql, row, basis: f"{row}.{name}"


def _global_id(type_name: str) -> Column:
    return lambda sql, row, basis: sql.base64(f"'{type_name}:' || {row}.key")


def _json_list(name: str) -> Column:
    return lambda sql, row, basis: sql.json_text(f"{row}.{name}")


def _recorded_at(sql: Sql, row: str, basis: Basis) -> str:
    return sql.timestamp(f"{row}.recorded_from")


def _status(sql: Sql, row: str, basis: Basis) -> str:
    window = basis.window
    if window is None:
        return f"CASE WHEN {row}.valid_to IS NULL THEN 'ACTIVE' ELSE 'CONCLUDED' END"
    return (
        f"CASE WHEN {row}.valid_to IS NULL THEN 'ACTIVE' WHEN {row}.valid_to_hi"
        f" < {sql.day(window[0])} THEN 'CONCLUDED' ELSE 'ACTIVE' END"
    )


RECORDED: dict[str, Column] = {
    "position": _column("record_from"),
    "certain": lambda sql, row, basis: _certain(sql, row, basis),
    "recordedAt": _recorded_at,
}
PERIOD: dict[str, Column] = {"since": _column("valid_from"), "until": _column("valid_to")}

# The plain fields each compiled object type answers from its own row.
PLAIN: dict[str, dict[str, Column]] = {
    "Partner": {
        **RECORDED,
        "id": _global_id("Partner"),
        "key": _column("key"),
        "name": _column("name"),
        "kind": _column("kind"),
        "country": _column("country"),
        "region": _column("region"),
        "description": _column("description"),
        "validFrom": _column("valid_from"),
        "validTo": _column("valid_to"),
    },
    "Membership": {
        **RECORDED,
        **PERIOD,
        "id": _global_id("Membership"),
        "membershipId": _column("key"),
        "notes": _json_list("notes"),
    },
    "Program": {
        **RECORDED,
        **PERIOD,
        "id": _global_id("Program"),
        "key": _column("key"),
        "name": _column("name"),
        "field": _column("field"),
        "kind": _column("kind"),
        "topics": _json_list("topics"),
        "description": _column("description"),
        "status": _status,
    },
}

# The columns besides the shared ones that each type's `from_row` reads, for a field of it
# the resolvers answer.
COLUMNS: dict[str, tuple[str, ...]] = {
    "Partner": ("name", "kind", "country", "region", "description"),
    "Membership": ("notes", "member", "network"),
    "Program": ("name", "field", "kind", "topics", "lead", "network", "description"),
}


def _list_of(type_: GraphQLOutputType) -> Trail:
    """A list's type and its items' type."""
    listed = get_nullable_type(type_)
    assert isinstance(listed, GraphQLList)
    return type_, listed.of_type


# The root fields compiled, and the table each reads.
TABLES = {"Partner": "partners", "Membership": "memberships", "Program": "programs"}


@dataclass(frozen=True)
class Field:
    """One field of the selection: its name, arguments and the nodes asking for it."""

    name: str
    arguments: dict[str, Any]
    details: FieldDetailsList


class Planner:
    """Compiles one root field of a query operation, given the executor running it."""

    def __init__(self, executor: Any, info: GraphQLResolveInfo[Any], postgres: bool) -> None:
        self.executor = executor
        self.info = info
        self.sql = Sql(postgres)
        self.context = info.context
        self.names = (f"t{n}" for n in itertools.count())
        self.parameters: dict[str, Any] = {}
        self.deferred: list[Deferred] = []

    # -- the selection ------------------------------------------------------------------

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

    # -- objects ------------------------------------------------------------------------

    async def object(
        self,
        type_: GraphQLObjectType,
        row: str,
        basis: Basis,
        details: FieldDetailsList,
        trail: Trail,
    ) -> str:
        """The JSON object of one row of `type_`, with the fields selected."""
        plain = PLAIN.get(type_.name)
        if plain is None:
            raise NotCompilable(type_.name)
        pairs = []
        for response, field in self.fields(type_, details).items():
            if field.name == "__typename":
                value = f"'{type_.name}'"
            elif field.name in plain:
                value = plain[field.name](self.sql, row, basis)
                value = self.enum(type_, field.name, value)
            else:
                value = await self.subtree(type_, field, row, basis, trail)
            pairs.append((response, value))
        return self.sql.object(pairs)

    async def subtree(
        self, type_: GraphQLObjectType, field: Field, row: str, basis: Basis, trail: Trail
    ) -> str:
        """A related field compiled, or, where it cannot be, left to the resolvers: in its
        place the answer holds the row its resolvers need (`Deferred`)."""
        field_trail = (*trail, type_.fields[field.name].type)
        bound = len(self.parameters)
        try:
            return await self.relation(type_, field, row, basis, field_trail)
        except NotCompilable:
            for name in list(self.parameters)[bound:]:
                del self.parameters[name]
        self.deferred.append(Deferred(type_, field.details, basis, field_trail))
        marker = [(DEFERRED, str(len(self.deferred) - 1)), (ROW, self.row_of(type_, row, basis))]
        return self.sql.object(marker)

    def row_of(self, type_: GraphQLObjectType, row: str, basis: Basis) -> str:
        """The columns `from_row` reads, as the loaders give them."""
        pairs = [
            ("key", f"{row}.key"),
            ("valid_from", f"{row}.valid_from"),
            ("valid_to", f"{row}.valid_to"),
            ("record_from", f"{row}.record_from"),
            ("recorded_from", self.sql.timestamp(f"{row}.recorded_from")),
            ("certain", _certain(self.sql, row, basis)),
        ]
        for column in COLUMNS[type_.name]:
            value = self.sql.json_text(f"{row}.{column}") if column in LIST_COLUMNS else None
            pairs.append((column, value or f"{row}.{column}"))
        return self.sql.object(pairs)

    def enum(self, type_: GraphQLObjectType, name: str, value: str) -> str:
        named = get_named_type(type_.fields[name].type)
        if not isinstance(named, GraphQLEnumType) or name == "status":
            return value
        cases = " ".join(
            f"WHEN '{member.value}' THEN '{label}'" for label, member in named.values.items()
        )
        return f"CASE {value} {cases} END"

    async def relation(
        self, type_: GraphQLObjectType, field: Field, row: str, basis: Basis, trail: Trail
    ) -> str:
        target = type_.fields[field.name].type
        name = (type_.name, field.name)
        if name in {("Membership", "member"), ("Program", "lead")}:
            column = "member" if field.name == "member" else "lead"
            key = f"{row}.{column}"
            return await self.partner_of(key, basis, field, object_type(target), trail)
        if name in {("Membership", "network"), ("Program", "network")}:
            key = f"{row}.network"
            return await self.partner_of(key, basis, field, object_type(target), trail)
        if name in {("Partner", "members"), ("Partner", "memberships")}:
            column = "network" if field.name == "members" else "member"
            own = await self.basis(field.arguments, basis)

            def members(m: str) -> str:
                return f"{m}.{column} = {row}.key AND {_on_basis(self.sql, m, own)}"

            return await self.connection(
                field, object_type(target), "memberships", members, own, trail
            )
        if name == ("Partner", "programs"):
            own = await self.basis(field.arguments, basis)
            return await self.connection(
                field, object_type(target), "programs", self.programs_of(row, own), own, trail
            )
        if field.name == "source":
            return self.source(field, object_type(target), row)
        raise NotCompilable(f"{type_.name}.{field.name}")

    def source(self, field: Field, type_: GraphQLObjectType, row: str) -> str:
        """Where the event that made this version says its fact came from (null: nowhere)."""
        event, made = next(self.names), next(self.names)
        if self.sql.postgres:
            # The metadata parsed once per row, not once per value read from it.
            source = f"CAST({event}.metadata AS json) -> 'source'"
            document, section = f"({made}.s ->> 'document')", f"({made}.s ->> 'section')"
        else:
            source = f"json_extract({event}.metadata, '$.source')"
            document = f"json_extract({made}.s, '$.document')"
            section = f"json_extract({made}.s, '$.section')"
        pairs = []
        for response, part in self.fields(type_, field.details).items():
            if part.name == "__typename":
                pairs.append((response, f"'{type_.name}'"))
            elif part.name in {"document", "section"}:
                pairs.append((response, document if part.name == "document" else section))
            else:
                raise NotCompilable(part.name)
        return self.sql.nested(
            f"SELECT CASE WHEN {document} IS NOT NULL THEN {self.sql.object(pairs)} END"
            f" FROM (SELECT {source} AS s FROM events {event}"
            f" WHERE {event}.position = {row}.record_from) {made}"
        )

    def programs_of(self, partner: str, basis: Basis) -> Callable[[str], str]:
        """The programs a partner takes part in or leads, each in its latest version."""
        taking_part, led = next(self.names), next(self.names)

        def where(p: str) -> str:
            # One IN over a UNION (not two INs joined by OR), so the database looks the few
            # keys up by index instead of testing every program against both lists.
            return (
                f"{p}.key IN (SELECT {taking_part}.program FROM program_partners {taking_part}"
                f" WHERE {taking_part}.partner = {partner}.key"
                f" AND {_on_basis(self.sql, taking_part, basis)}"
                f" UNION SELECT {led}.key FROM programs {led} WHERE {led}.lead ="
                f" {partner}.key AND {_on_basis(self.sql, led, basis)})"
                f" AND {_on_basis(self.sql, p, basis)} AND {self.latest(p, 'programs', basis)}"
            )

        return where

    def latest(self, row: str, table: str, basis: Basis) -> str:
        """No later version of the same key on the basis (as a batched read by key keeps
        the last in valid-time order)."""
        later = next(self.names)
        return (
            f"NOT EXISTS (SELECT 1 FROM {table} {later} WHERE {later}.key = {row}.key"
            f" AND {_on_basis(self.sql, later, basis)} AND ({later}.valid_from_lo >"
            f" {row}.valid_from_lo OR ({later}.valid_from_lo = {row}.valid_from_lo AND"
            f" {later}.slice > {row}.slice)))"
        )

    async def one(
        self,
        type_: GraphQLObjectType,
        table: str,
        where: Callable[[str], str],
        basis: Basis,
        field: Field,
        trail: Trail,
    ) -> str:
        """The last version (in valid-time order) of one object, or null."""
        row = next(self.names)
        body = await self.object(type_, row, basis, field.details, trail)
        return self.sql.nested(
            f"SELECT {body} FROM {table} {row} WHERE {where(row)}"
            f" ORDER BY {row}.valid_from_lo DESC, {row}.slice DESC LIMIT 1"
        )

    def partner_versions(self, key: str, basis: Basis) -> Callable[[str], str]:
        def where(row: str) -> str:
            condition = f"{row}.key = {key} AND {_on_basis(self.sql, row, basis)}"
            if basis.window is None:
                # Without a day, the partner as it is now: the slice with no end.
                condition += f" AND {row}.valid_to IS NULL"
            return condition

        return where

    async def partner_of(
        self, key: str, basis: Basis, field: Field, type_: Any, trail: Trail
    ) -> str:
        """A related partner on the basis; on a day it does not hold, as it is on record."""
        versions = self.partner_versions(key, basis)
        found = await self.one(type_, "partners", versions, basis, field, trail)
        if basis.window is None:
            return found
        on_record = basis.on_record()
        versions = self.partner_versions(key, on_record)
        instead = await self.one(type_, "partners", versions, on_record, field, trail)
        return f"coalesce({found}, {instead})"

    # -- connections --------------------------------------------------------------------

    async def connection(
        self,
        field: Field,
        type_: GraphQLObjectType,
        table: str,
        where: Callable[[str], str],
        basis: Basis,
        trail: Trail,
    ) -> str:
        """A page of the rows `where` picks, in key order, as the connection asked for."""
        size, paging, after, before = self.paging(field.arguments)
        row, page = next(self.names), next(self.names)
        node_type = object_type(type_.fields["nodes"].type)
        edge_type = object_type(type_.fields["edges"].type)
        nodes_trail = (*trail, *_list_of(type_.fields["nodes"].type))
        edges_trail = (*trail, *_list_of(type_.fields["edges"].type))
        columns: list[str] = []
        pairs: list[tuple[str, str]] = []
        keep = f"{page}.rn <= {size}"
        order = f"{page}.k, {page}.s"
        cursor = self.sql.base64(f"'k:' || {page}.k")
        paged = False  # does the answer read the page (else no row of it is needed)?
        for response, part in self.fields(type_, field.details).items():
            if part.name == "__typename":
                pairs.append((response, f"'{type_.name}'"))
            elif part.name == "nodes":
                paged = True
                column = f"j{len(columns)}"
                columns.append(
                    f"{await self.object(node_type, row, basis, part.details, nodes_trail)}"
                    f" AS {column}"
                )
                pairs.append((response, self.sql.array(f"{page}.{column}", keep, order)))
            elif part.name == "edges":
                paged = True
                edge = []
                for edge_response, edge_part in self.fields(edge_type, part.details).items():
                    if edge_part.name == "__typename":
                        edge.append((edge_response, f"'{edge_type.name}'"))
                    elif edge_part.name == "cursor":
                        edge.append((edge_response, cursor))
                    else:
                        column = f"j{len(columns)}"
                        node_trail = (*edges_trail, edge_type.fields[edge_part.name].type)
                        node = await self.object(
                            node_type, row, basis, edge_part.details, node_trail
                        )
                        columns.append(f"{node} AS {column}")
                        value = (
                            f"{page}.{column}" if self.sql.postgres else f"json({page}.{column})"
                        )
                        edge.append((edge_response, value))
                pairs.append((response, self.sql.array(self.sql.object(edge), keep, order)))
            elif part.name == "pageInfo":
                paged = True
                pairs.append((response, self.page_info(part, page, size, paging)))
            elif part.name == "totalCount":
                counted_row = next(self.names)
                pairs.append(
                    (
                        response,
                        f"(SELECT count(*) FROM {table} {counted_row} WHERE {where(counted_row)})",
                    )
                )
            else:
                raise NotCompilable(part.name)
        if not paged:
            return self.sql.nested(f"SELECT {self.sql.object(pairs)}")
        cursors = []
        if after is not None:
            cursors.append(f"{row}.key > {self.bind(after)}")
        if before is not None:
            cursors.append(f"{row}.key < {self.bind(before)}")
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
        if paging.backward and not self.sql.postgres:
            inner = f"SELECT * FROM ({inner}) ORDER BY k, s"
        return self.sql.nested(f"SELECT {self.sql.object(pairs)} FROM ({inner}) {page}")

    def page_info(self, part: Field, page: str, size: int, paging: Paging) -> str:
        page_info_type = object_type(self.info.schema.get_type("PageInfo"))
        more = self.sql.boolean(f"count(*) > {size}")
        pairs = []
        for response, item in self.fields(page_info_type, part.details).items():
            if item.name == "__typename":
                value = "'PageInfo'"
            elif item.name == "hasNextPage":
                value = self.sql.constant(paging.before is not None) if paging.backward else more
            elif item.name == "hasPreviousPage":
                value = more if paging.backward else self.sql.constant(paging.after is not None)
            elif item.name in {"startCursor", "endCursor"}:
                pick = "min" if item.name == "startCursor" else "max"
                value = self.sql.base64(
                    f"'k:' || {pick}({page}.k) FILTER (WHERE {page}.rn <= {size})"
                )
            else:
                raise NotCompilable(item.name)
            pairs.append((response, value))
        return self.sql.object(pairs)

    # -- root fields --------------------------------------------------------------------

    async def root(self, field: Field) -> str:
        arguments = field.arguments
        target = object_type(self.info.return_type)
        trail = (self.info.return_type,)
        when = When(
            arguments.get("asOf"),
            arguments.get("during"),
            arguments.get("knownAt"),
            arguments.get("atPosition"),
        )
        if field.name in {"partner", "program"}:
            basis = await root_basis(self.info, when)  # type: ignore[arg-type]
            key = self.bind(arguments["key"])
            if field.name == "partner":
                where = self.partner_versions(key, basis)
                return await self.one(target, "partners", where, basis, field, trail)

            def program(row: str) -> str:
                return f"{row}.key = {key} AND {_on_basis(self.sql, row, basis)}"

            return await self.one(target, "programs", program, basis, field, trail)
        if field.name == "partners":
            basis = await root_basis(self.info, when)  # type: ignore[arg-type]
            return await self.connection(
                field, target, "partners", self.partners_where(arguments, basis), basis, trail
            )
        if field.name == "programs":
            if arguments.get("status") == "concluded" and (when.as_of or when.during):
                raise NotCompilable("concluded programs on a day answer on the record")
            basis = await root_basis(self.info, when)  # type: ignore[arg-type]
            return await self.connection(
                field, target, "programs", self.programs_where(arguments, basis), basis, trail
            )
        raise NotCompilable(field.name)

    def filters(
        self,
        row: str,
        arguments: Mapping[str, Any],
        equal: tuple[str, ...],
        search: tuple[str, ...],
    ) -> list[str]:
        conditions = [
            f"{row}.{name} = {self.bind(str(arguments[name]))}"
            for name in equal
            if arguments.get(name) is not None
        ]
        text_ = arguments.get("search")
        if text_:
            pattern = self.bind(contains_pattern(text_))
            matches = [
                f"({row}.{c} IS NOT NULL AND lower({row}.{c}) LIKE {pattern}"
                f" ESCAPE '{LIKE_ESCAPE}')"
                for c in search
            ]
            conditions.append(f"({' OR '.join(matches)})")
        return conditions

    def partners_where(self, arguments: Mapping[str, Any], basis: Basis) -> Callable[[str], str]:
        def where(row: str) -> str:
            conditions = [_on_basis(self.sql, row, basis)]
            if basis.window is None:
                conditions.append(f"{row}.valid_to IS NULL")
            conditions += self.filters(
                row, arguments, ("kind", "country", "region"), ("key", "name", "description")
            )
            return " AND ".join(conditions)

        return where

    def programs_where(self, arguments: Mapping[str, Any], basis: Basis) -> Callable[[str], str]:
        partner = arguments.get("partner")
        status = arguments.get("status")

        def where(row: str) -> str:
            conditions = [_on_basis(self.sql, row, basis)]
            conditions += self.filters(row, arguments, ("field",), ("name", "description"))
            if partner is not None:
                part = next(self.names)
                key = self.bind(partner)
                conditions.append(
                    f"({row}.key IN (SELECT {part}.program FROM program_partners {part}"
                    f" WHERE {part}.partner = {key} AND {_on_basis(self.sql, part, basis)})"
                    f" OR {row}.lead = {key})"
                )
            if status == "active" and basis.window is None:
                conditions.append(f"{row}.valid_to IS NULL")
            elif status == "concluded" and basis.window is None:
                conditions.append(f"{row}.valid_to IS NOT NULL")
            return " AND ".join(conditions)

        return where


ROOTS = frozenset({"partner", "partners", "program", "programs"})


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
    expression = await planner.root(field)
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


__all__ = ["ROOTS", "Compiled", "CompilingExecutor", "Field", "NotCompilable", "compiled_root"]
