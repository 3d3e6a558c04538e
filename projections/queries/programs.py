"""Programs, their partners, activities and commitments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from projections.models.activities import activities, activity_participants
from projections.models.commitments import commitments
from projections.models.programs import program_partners, programs
from projections.queries.basis import (
    Basis,
    Found,
    Page,
    Row,
    grouped,
    run_page,
    text_match,
)


async def find_programs(
    connection: AsyncConnection,
    basis: Basis = Basis(),
    page: Page = Page(),
    *,
    with_total: bool = False,
    field: str | None = None,
    partner: str | None = None,
    status: str | None = None,
    search: str | None = None,
) -> Found:
    """Programs by field, partner taking part, and status ("active" or "concluded").

    As of a day (or during a period), active programs are those that may hold then
    (`certain` says whether they surely do) and concluded ones those whose end is on record
    and certainly before it (before the period began).
    """
    window = basis.window
    if status == "concluded" and window is not None:
        ended = basis.on_record()  # they do not hold then: no valid-time filter
        query = ended.where(programs, select(programs)).where(programs.c.valid_to_hi < window[0])
        basis = ended  # what they say is certain: they had ended
    else:
        query = basis.where(programs, select(programs))
    if field is not None:
        query = query.where(programs.c.field == field)
    if partner is not None:
        taking_part = basis.where(program_partners, select(program_partners.c.program))
        taking_part = taking_part.where(program_partners.c.partner == partner)
        query = query.where(programs.c.key.in_(taking_part) | (programs.c.lead == partner))
    if status == "active" and window is None:
        query = query.where(programs.c.valid_to.is_(None))
    elif status == "concluded" and window is None:
        query = query.where(programs.c.valid_to.is_not(None))
    if search:
        query = query.where(text_match([programs.c.name, programs.c.description], search))
    return await run_page(connection, programs, query, basis, page, with_total)


async def programs_grouped(
    column_name: str, connection: AsyncConnection, keys: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """Programs grouped by `lead` or `network`."""
    return await grouped(connection, programs, programs.c[column_name], keys, basis)


async def partners_of_programs(
    connection: AsyncConnection, keys: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    return await grouped(connection, program_partners, program_partners.c.program, keys, basis)


async def programs_of_partners(
    connection: AsyncConnection, partners: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each partner, its participations (a program's lead takes part in it too)."""
    return await grouped(connection, program_partners, program_partners.c.partner, partners, basis)


async def find_activities(
    connection: AsyncConnection,
    basis: Basis = Basis(),
    page: Page = Page(),
    *,
    with_total: bool = False,
    start: date | None = None,
    end: date | None = None,
    kind: str | None = None,
    network: str | None = None,
    program: str | None = None,
    search: str | None = None,
) -> Found:
    """Activities that may fall between `start` and `end` (inclusive), in key order; with
    `search`, those whose name or description holds it."""
    query = basis.where(activities, select(activities))
    if start is not None:
        query = query.where(activities.c.valid_to_hi >= start)
    if end is not None:
        query = query.where(activities.c.valid_from_lo <= end)
    for column, value in (
        (activities.c.kind, kind),
        (activities.c.network, network),
        (activities.c.program, program),
    ):
        if value is not None:
            query = query.where(column == value)
    if search:
        query = query.where(text_match([activities.c.name, activities.c.description], search))
    found = await run_page(connection, activities, query, basis, page, with_total)
    if start is not None or end is not None:
        for row in found.rows:
            row["certain"] = row["certain"] and within(row, start, end)
    return found


def within(row: Row, start: date | None, end: date | None) -> bool:
    """Does the activity's (perhaps partial) date certainly fall between start and end?"""
    if row["valid_from"] is None:
        return False
    return (start is None or row["valid_from_lo"] >= start) and (
        end is None or row["valid_to_hi"] <= end
    )


async def activities_of(
    column_name: str, connection: AsyncConnection, keys: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """Activities grouped by `network` or `program`."""
    return await grouped(connection, activities, activities.c[column_name], keys, basis)


async def participations_of(
    connection: AsyncConnection, partners: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """For each partner, the activities it took part in (rows of activity_participants)."""
    column = activity_participants.c.partner
    return await grouped(connection, activity_participants, column, partners, basis)


async def find_commitments(
    connection: AsyncConnection,
    basis: Basis = Basis(),
    page: Page = Page(),
    *,
    with_total: bool = False,
    by: str | None = None,
    activity: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Found:
    """Commitments by whom and at which activity, announced between `start` and `end`
    (inclusive; `certain` then says whether the announcement date surely falls there)."""
    query = basis.where(commitments, select(commitments))
    if by is not None:
        query = query.where(commitments.c.by == by)
    if activity is not None:
        query = query.where(commitments.c.activity == activity)
    if start is not None:
        query = query.where(commitments.c.valid_from_hi >= start)
    if end is not None:
        query = query.where(commitments.c.valid_from_lo <= end)
    found = await run_page(connection, commitments, query, basis, page, with_total)
    if start is not None or end is not None:
        for row in found.rows:
            announced = {**row, "valid_to_hi": row["valid_from_hi"]}  # on its one date
            row["certain"] = row["certain"] and within(announced, start, end)
    return found


async def commitments_of(
    column_name: str, connection: AsyncConnection, keys: Sequence[str], basis: Basis = Basis()
) -> dict[str, list[Row]]:
    """Commitments grouped by `by` or `activity`."""
    return await grouped(connection, commitments, commitments.c[column_name], keys, basis)
