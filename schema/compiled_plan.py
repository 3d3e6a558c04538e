"""The planner of a compiled read (see schema/compiled.py): one row's JSON object.

`Planner` writes the JSON object of a row of a compiled type with the fields selected: its
plain fields from the row, its related partners, memberships and programs as correlated
subqueries (connections are schema/compiled_pages.py), and, for a field it cannot compile,
the marker and row its resolvers are grafted in from (schema/grafting.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import GraphQLEnumType, GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import FieldDetailsList

from projections.queries.basis import LIST_COLUMNS, Basis
from schema.compiled_pages import connection
from schema.compiled_selection import Field, Selection, object_type
from schema.compiled_sql import COLUMNS, PLAIN, NotCompilable, certain, on_basis
from schema.grafting import DEFERRED, ROW, Deferred, Trail


class Planner(Selection):
    """Compiles one root field of a query operation, given the executor running it."""

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
            ("certain", certain(self.sql, row, basis)),
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
                return f"{m}.{column} = {row}.key AND {on_basis(self.sql, m, own)}"

            return await connection(
                self, field, object_type(target), "memberships", members, own, trail
            )
        if name == ("Partner", "programs"):
            own = await self.basis(field.arguments, basis)
            return await connection(
                self, field, object_type(target), "programs", self.programs_of(row, own), own, trail
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
                f" AND {on_basis(self.sql, taking_part, basis)}"
                f" UNION SELECT {led}.key FROM programs {led} WHERE {led}.lead ="
                f" {partner}.key AND {on_basis(self.sql, led, basis)})"
                f" AND {on_basis(self.sql, p, basis)} AND {self.latest(p, 'programs', basis)}"
            )

        return where

    def latest(self, row: str, table: str, basis: Basis) -> str:
        """No later version of the same key on the basis (as a batched read by key keeps
        the last in valid-time order)."""
        later = next(self.names)
        return (
            f"NOT EXISTS (SELECT 1 FROM {table} {later} WHERE {later}.key = {row}.key"
            f" AND {on_basis(self.sql, later, basis)} AND ({later}.valid_from_lo >"
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
            condition = f"{row}.key = {key} AND {on_basis(self.sql, row, basis)}"
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
