"""What a timeline or a members chart draws, read through the projection queries the API's
loaders use (one query per kind of row, whatever their number), and the drawings kept by
the log position they were made on: the record at a position never changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from projections.queries.basis import Basis, Row
from projections.queries.history import corrected_keys
from projections.queries.memberships import members_of, memberships_of, roles_in, roles_of
from projections.queries.partners import partners_by_key
from projections.versions import certainly_holds_within
from service.browser import drawing
from service.browser.keeping import Kept
from service.browser.reading import Moment, ReadRefused
from service.services import Services

KEPT = 64  # drawings kept (a 1,000-bar timeline is about 0.5 MB), least recently used dropped
# Prefixes of the ids inside each kind of drawing, so that a page may hold one of each.
TIMELINE, CHART = "tl-", "mc-"


@dataclass(frozen=True)
class Drawing:
    """A drawing made on one record position, less what depends on the day asked about."""

    title: str
    description: str
    sections: Sequence[drawing.Section]
    axis: drawing.Axis
    body: str

    def svg(self, as_of: date | None) -> str:
        return drawing.timeline_svg(
            self.body, self.sections, self.axis, self.title, self.description, TIMELINE, as_of
        )


@dataclass(frozen=True)
class Chart:
    """A members chart, and the counts it draws (the page shows them as a table too)."""

    svg: str
    counts: Sequence[drawing.YearCount]


class Timelines:
    """Timelines and members charts of partners, kept by (what, key, position, today)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.drawings: Kept[Drawing] = Kept(KEPT)
        self.charts: Kept[Chart] = Kept(KEPT)

    async def position(self, moment: Moment, head: int | None = None) -> int:
        """The log position a moment names: its own, the last recorded by its time, or the
        head (so that what is kept for it stays true)."""
        if head is None:
            head = await self.head()
        if moment.at_position is not None:
            if moment.at_position > head:
                raise ReadRefused(
                    f"atPosition {moment.at_position} is not in the log: it runs from 0 to {head}"
                )
            return moment.at_position
        if moment.known_at is not None:
            return await self.services.store.position_at(moment.known_at)
        return head

    async def timeline(self, key: str, position: int, as_of: date | None, today: date) -> str:
        """A partner's timeline as the record stood at `position`, marked at `as_of`."""
        made = self.drawings.get((key, position, today))
        if made is None:
            made = self.drawings.put(
                (key, position, today), await self._timeline(key, position, today)
            )
        return made.svg(as_of)

    async def chart(self, key: str, position: int, today: date) -> Chart:
        """A network's members per year, as the record stood at `position`."""
        made = self.charts.get((key, position, today))
        if made is None:
            async with self.services.engine.connect() as connection:
                basis = Basis(position=position)
                name = await _name(connection, key, basis)
                rows = (await members_of(connection, [key], basis)).get(key, [])
            counts = year_counts(rows, today)
            svg = drawing.members_chart(counts, f"Members of {name} per year", CHART)
            made = self.charts.put((key, position, today), Chart(svg, counts))
        return made

    async def head(self) -> int:
        return (await self.services.store.head()).position

    async def _timeline(self, key: str, position: int, today: date) -> Drawing:
        basis = Basis(position=position)
        async with self.services.engine.connect() as connection:
            name = await _name(connection, key, basis)
            own = (await memberships_of(connection, [key], basis)).get(key, [])
            members = (await members_of(connection, [key], basis)).get(key, [])
            held = (await roles_of(connection, [key], basis)).get(key, [])
            offices = (await roles_in(connection, [key], basis)).get(key, [])
            named = {row["network"] for row in own} | {row["member"] for row in members}
            named |= {row["network"] for row in held} | {row["holder"] for row in offices}
            names = {k: row["name"] for k, row in (await _names(connection, named, basis)).items()}
            ids = [row["key"] for row in (*own, *members)]
            corrected = await corrected_keys(connection, ObjectKind.MEMBERSHIP, ids, position)
            role_ids = [row["key"] for row in (*held, *offices)]
            corrected |= await corrected_keys(connection, ObjectKind.ROLE, role_ids, position)
        sections = [
            drawing.Section(
                f"Networks {name} belongs to",
                [_membership(r, "membership", r["network"], name, names, corrected) for r in own],
            ),
            drawing.Section(
                f"Roles {name} holds",
                [_role(r, "role", r["network"], name, names, corrected) for r in held],
            ),
            drawing.Section(
                f"Members of {name}",
                [_membership(r, "member", r["member"], name, names, corrected) for r in members],
            ),
            drawing.Section(
                f"Roles held in {name}",
                [_role(r, "office", r["holder"], name, names, corrected) for r in offices],
            ),
        ]
        sections = [section for section in sections if section.periods]
        axis = drawing.Axis.around(drawing.days_of(sections), today)
        body = drawing.timeline_body(sections, axis, today, TIMELINE)
        bars = sum(len(section.periods) for section in sections)
        description = (
            f"{bars} periods as the record stood at log position {position}: "
            + "; ".join(f"{s.heading}: {len(s.periods)}" for s in sections)
            + ". Each bar's title gives its dates as the source gives them."
        )
        return Drawing(f"Timeline of {name}", description, sections, axis, body)


async def _name(connection: AsyncConnection, key: str, basis: Basis) -> str:
    found = await _names(connection, {key}, basis)
    if key not in found:
        raise ReadRefused(f"no partner {key!r} is on record", 404)
    name: str = found[key]["name"]
    return name


async def _names(connection: AsyncConnection, keys: set[str], basis: Basis) -> dict[str, Row]:
    """Partners by key as the record stood, with their details as they are now."""
    return await partners_by_key(connection, sorted(keys), Basis(position=basis.position))


def _membership(
    row: Row, kind: str, other: str, name: str, names: dict[str, str], corrected: set[str]
) -> drawing.Period:
    other_name = names.get(other, other)
    who = f"{name} in {other_name}" if kind == "membership" else f"{other_name} in {name}"
    return _period(row, kind, other_name, other, who, corrected)


def _role(
    row: Row, kind: str, other: str, name: str, names: dict[str, str], corrected: set[str]
) -> drawing.Period:
    other_name = names.get(other, other)
    title = row["position"] + (f" ({row['holder_title']})" if row["holder_title"] else "")
    if kind == "role":
        label, who = f"{title}, {other_name}", f"{name}, {title} of {other_name}"
    else:
        label, who = f"{other_name}: {title}", f"{other_name}, {title} of {name}"
    return _period(row, kind, label, other, who, corrected)


def _period(
    row: Row, kind: str, label: str, other: str, who: str, corrected: set[str]
) -> drawing.Period:
    since, until = row["valid_from"], row["valid_to"]
    attested = PartialDate.parse(row["held_as_of"]) if row.get("held_as_of") else None
    ended = until not in (None, "unknown")
    is_corrected = row["key"] in corrected
    return drawing.Period(
        kind=kind,
        label=label,
        href=f"/partners/{other}",
        summary=f"{who}: {dates_phrase(since, until, attested)}"
        + ("; corrected since first recorded" if is_corrected else ""),
        since_lo=row["valid_from_lo"] if since else None,
        since_hi=row["valid_from_hi"] if since else None,
        until=until,
        until_lo=row["valid_to_lo"] if ended else None,
        until_hi=row["valid_to_hi"] if ended else None,
        attested=attested.earliest if attested else None,
        corrected=is_corrected,
    )


def dates_phrase(since: str | None, until: str | None, attested: PartialDate | None) -> str:
    """A period in words, as precise as the record is."""
    if since is None:
        start = "no source dates its start"
        if attested is not None:
            start += f", but it held in {attested}"
    elif len(since) == 4:
        start = f"since {since} (a day in that year the source does not give)"
    elif len(since) == 7:
        start = f"since {since} (a day in that month the source does not give)"
    else:
        start = f"since {since}"
    if until is None:
        end = "no end on record"
    elif until == "unknown":
        end = "ended on a date the source does not give"
    else:
        end = f"until {until}"
    return f"{start}; {end}"


def year_counts(rows: Sequence[Row], today: date) -> list[drawing.YearCount]:
    """For each year from the first dated start to this one: how many memberships surely
    held at some time in it, and how many more may have (their dates cannot tell)."""
    starts = [row["valid_from_lo"].year for row in rows if row["valid_from"] is not None]
    if not rows:
        return []
    first = min(starts, default=today.year)
    counts = []
    for year in range(first, today.year + 1):
        lo, hi = date(year, 1, 1), date(year, 12, 31)
        maybe = [row for row in rows if row["valid_from_lo"] <= hi and row["valid_to_hi"] >= lo]
        sure = sum(1 for row in maybe if certainly_holds_within(row, lo, hi))
        counts.append(drawing.YearCount(year, sure, len(maybe) - sure))
    return counts
