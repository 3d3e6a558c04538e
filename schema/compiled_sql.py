"""The SQL a compiled read writes (see schema/compiled.py).

`Sql` holds what differs between the engines (JSON construction, base64, booleans, dates,
timestamps); `on_basis` and `certain` are the conditions of a row's basis; `PLAIN` says how
each compiled object type answers its plain fields from its own row, and `COLUMNS` which
columns its `from_row` reads when one of its fields is left to the resolvers.
`NotCompilable` is raised wherever a statement cannot be written, here or in the planner:
that selection is left to the resolvers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from projections.queries.basis import Basis


class NotCompilable(Exception):
    """This selection (or its arguments) is answered by the resolvers."""


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


def on_basis(sql: Sql, row: str, basis: Basis) -> str:
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


def certain(sql: Sql, row: str, basis: Basis) -> str:
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
    "certain": lambda sql, row, basis: certain(sql, row, basis),
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


# The root fields compiled, and the table each reads.
TABLES = {"Partner": "partners", "Membership": "memberships", "Program": "programs"}
