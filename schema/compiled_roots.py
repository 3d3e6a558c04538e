"""The root fields a read compiles (see schema/compiled.py), and their filters.

`ROOTS` are the root fields the executor tries to compile; `root` writes one's statement on
its basis: `partner` and `program` as one object, `partners` and `programs` as a connection
filtered as their resolvers filter (equal arguments, search, a program's partner or status).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from projections.queries.basis import LIKE_ESCAPE, Basis, contains_pattern
from schema.basis import When, root_basis
from schema.compiled_pages import connection
from schema.compiled_selection import Field, object_type
from schema.compiled_sql import NotCompilable, on_basis

if TYPE_CHECKING:
    from schema.compiled_plan import Planner

ROOTS = frozenset({"partner", "partners", "program", "programs"})


async def root(planner: Planner, field: Field) -> str:
    arguments = field.arguments
    target = object_type(planner.info.return_type)
    trail = (planner.info.return_type,)
    when = When(
        arguments.get("asOf"),
        arguments.get("during"),
        arguments.get("knownAt"),
        arguments.get("atPosition"),
    )
    if field.name in {"partner", "program"}:
        basis = await root_basis(planner.info, when)  # type: ignore[arg-type]
        key = planner.bind(arguments["key"])
        if field.name == "partner":
            where = planner.partner_versions(key, basis)
            return await planner.one(target, "partners", where, basis, field, trail)

        def program(row: str) -> str:
            return f"{row}.key = {key} AND {on_basis(planner.sql, row, basis)}"

        return await planner.one(target, "programs", program, basis, field, trail)
    if field.name == "partners":
        basis = await root_basis(planner.info, when)  # type: ignore[arg-type]
        return await connection(
            planner,
            field,
            target,
            "partners",
            _partners_where(planner, arguments, basis),
            basis,
            trail,
        )
    if field.name == "programs":
        if arguments.get("status") == "concluded" and (when.as_of or when.during):
            raise NotCompilable("concluded programs on a day answer on the record")
        basis = await root_basis(planner.info, when)  # type: ignore[arg-type]
        return await connection(
            planner,
            field,
            target,
            "programs",
            _programs_where(planner, arguments, basis),
            basis,
            trail,
        )
    raise NotCompilable(field.name)


def _filters(
    planner: Planner,
    row: str,
    arguments: Mapping[str, Any],
    equal: tuple[str, ...],
    search: tuple[str, ...],
) -> list[str]:
    conditions = [
        f"{row}.{name} = {planner.bind(str(arguments[name]))}"
        for name in equal
        if arguments.get(name) is not None
    ]
    text_ = arguments.get("search")
    if text_:
        pattern = planner.bind(contains_pattern(text_))
        matches = [
            f"({row}.{c} IS NOT NULL AND lower({row}.{c}) LIKE {pattern} ESCAPE '{LIKE_ESCAPE}')"
            for c in search
        ]
        conditions.append(f"({' OR '.join(matches)})")
    return conditions


def _partners_where(
    planner: Planner, arguments: Mapping[str, Any], basis: Basis
) -> Callable[[str], str]:
    def where(row: str) -> str:
        conditions = [on_basis(planner.sql, row, basis)]
        if basis.window is None:
            conditions.append(f"{row}.valid_to IS NULL")
        conditions += _filters(
            planner, row, arguments, ("kind", "country", "region"), ("key", "name", "description")
        )
        return " AND ".join(conditions)

    return where


def _programs_where(
    planner: Planner, arguments: Mapping[str, Any], basis: Basis
) -> Callable[[str], str]:
    partner = arguments.get("partner")
    status = arguments.get("status")

    def where(row: str) -> str:
        conditions = [on_basis(planner.sql, row, basis)]
        conditions += _filters(planner, row, arguments, ("field",), ("name", "description"))
        if partner is not None:
            part = next(planner.names)
            key = planner.bind(partner)
            conditions.append(
                f"({row}.key IN (SELECT {part}.program FROM program_partners {part}"
                f" WHERE {part}.partner = {key} AND {on_basis(planner.sql, part, basis)})"
                f" OR {row}.lead = {key})"
            )
        if status == "active" and basis.window is None:
            conditions.append(f"{row}.valid_to IS NULL")
        elif status == "concluded" and basis.window is None:
            conditions.append(f"{row}.valid_to IS NOT NULL")
        return " AND ".join(conditions)

    return where
