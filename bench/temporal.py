"""Temporal reads and rebuilds over a synthetic history of 10,000 cities and 300 networks.

Run by `make bench`, never by the tests. One deterministic generator makes a valid,
hash-chained log of the cooperation domain: cities joining networks (dates at year, month
or day precision, some unknown), leaving and rejoining, memberships corrected, roles held
in networks and their steering committees, programs launched with partners joining and
leaving, partners renamed or corrected, activities and commitments. The small log is the
first `--small` events of it and the large log the first `--large`, so the large history
is the small one grown longer.

On each engine (SQLite in files in a temporary directory; PostgreSQL in fresh databases
beside COOP_BENCH_POSTGRES_URL's, dropped after) it

1. writes each log through `EventStore.import_events` in batches of 1,000 with no projector
   attached (the log alone), then folds it with `Projections.rebuild`: all seven built-in
   projectors on the small log, only memberships (what the queries read) on the large one
   unless `--large-rebuild all`, and prints the rates;
2. times `members_page(connection, network, Basis(as_of=day), Page(limit=--page))` (as of
   a day, as the record stands now) and the same known at the position in the middle of
   the log (`Basis(as_of=day, position=head // 2)`) over `--queries` (network, day) pairs.
   Pairs are drawn at random and kept only where the small log already gives a full page;
   the same pairs are asked of the large log, so every answer has exactly `--page` rows at
   both sizes and the comparison measures history length, not answer size;
3. shows the large log's query plans, then replaces the network index by the variants in
   INDEXES (the index without its covered columns, and the one before migration 0003) and
   times the same queries again (skip with --no-index-experiment).

Target (issue 4): the median at the large size within 1.5x of the median at the small.
The default large size is the issue's 1,000,000 (`--large N` for another).

    .venv/bin/python bench/temporal.py [--small N] [--large N] [--queries N] [--page N]
        [--engines sqlite,postgres] [--large-rebuild memberships|all] [--no-index-experiment]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as `python bench/temporal.py`, this file's folder comes first on sys.path, where
# bench/graphql.py would shadow the `graphql` package Strawberry is built on: the
# repository root takes its place, for `bench.support`.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import islice
from typing import Any, Generic, TypeVar

import msgspec
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.support import chained, database, machine
from domain import events as ev
from domain.events import cooperation_events
from domain.vocabulary import Field
from events.database import create_engine
from events.dates import PartialDate
from events.model import Metadata, RecordedEvent, SourceRef
from events.store import EventStore
from projections.framework import Projections
from projections.models import built_in_projectors
from projections.models.memberships import memberships
from projections.queries.basis import Basis, Page
from projections.queries.memberships import members_page
from service.migrate import upgrade

SMALL, LARGE = 10_000, 1_000_000  # the size, since rebuilds fold in memory (README)
CITIES, NETWORKS = 10_000, 300
IMPORT_BATCH = 1000
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2024, 12, 31)  # the as-of days asked about
TARGET = 1.5

# The index a network's page of memberships reads: as the projection has it (since
# migration 0003, a network's rows in the order the page reads them, covering the columns
# it filters on), the same without the covered columns, and the index the projection had
# before 0003, for comparison. Each replaces the one before it, in this order.
INDEXES: dict[str, list[str]] = {
    "as is": [],
    "key order": [
        "DROP INDEX ix_memberships_network",
        "CREATE INDEX ix_memberships_network ON memberships (network, key, slice)",
    ],
    "before 0003": [
        "DROP INDEX ix_memberships_network",
        "CREATE INDEX ix_memberships_network ON memberships (network, record_from, record_to)",
    ],
}

# How often each kind of thing happens once the networks exist (relative weights).
ACTIONS: dict[str, float] = {
    "membership_started": 40,
    "membership_ended": 14,
    "membership_corrected": 8,
    "role_assigned": 4,
    "role_ended": 1.5,
    "role_corrected": 0.8,
    "program_launched": 0.6,
    "partner_joined_program": 12,
    "partner_left_program": 3,
    "program_concluded": 0.2,
    "program_corrected": 0.4,
    "partner_updated": 0.3,
    "partner_corrected": 1,
    "activity_recorded": 3,
    "activity_corrected": 0.6,
    "commitment_announced": 0.5,
    "body_size_recorded": 0.4,
}
COUNTRIES = ["JP", "CN", "MM", "GB", "US", "FR", "BR", "IN", "ZA", "DE", "MX", "ID", "KE", "AU"]
REGIONS = ["Asia", "Asia", "Asia", "Europe", "North America", "Europe", "South America"]
POSITIONS = ["chair", "vice chair", "treasurer", "board member", "steering committee member"]
FIELDS = [field.value for field in Field]
KINDS = ["researcher_exchange", "training_program", "network_initiative", "technology_exchange"]
TOPICS = ["PM2.5", "VOCs", "recycling", "buildings", "hydrogen", "transit", "flooding"]

T = TypeVar("T")

SOURCE = SourceRef(document="bench-synthetic", section="history")
PLAIN = msgspec.to_builtins(Metadata(actor="bench", source=SOURCE))
CORRECTION = msgspec.to_builtins(
    Metadata(actor="bench", reason="the source was read wrongly", source=SOURCE)
)


@dataclass
class Membership:
    membership_id: str
    member: str
    network: str
    since: PartialDate
    until: PartialDate | None
    notes: list[str]


@dataclass
class Role:
    role_id: str
    holder: str
    network: str
    body: str | None
    position: str
    since: PartialDate
    until: PartialDate | None = None
    holder_title: str | None = None


@dataclass
class Program:
    event: ev.ProgramLaunched
    until: PartialDate | None = None
    partners: set[str] = field(default_factory=set)


class Pool(Generic[T]):
    """Items to pick from at random, with O(1) removal (for what is still open)."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self.index: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self.items)

    def add(self, item: T) -> None:
        self.index[id(item)] = len(self.items)
        self.items.append(item)

    def remove(self, item: T) -> None:
        at = self.index.pop(id(item))
        last = self.items.pop()
        if at < len(self.items):
            self.items[at] = last
            self.index[id(last)] = at

    def pick(self, rng: random.Random) -> T:
        return self.items[rng.randrange(len(self.items))]


def zipf_weights(count: int, offset: float, power: float) -> list[float]:
    """Cumulative weights: a few popular items, a long tail."""
    total, cumulative = 0.0, []
    for rank in range(count):
        total += 1 / (rank + offset) ** power
        cumulative.append(total)
    return cumulative


class World:
    """The synthetic history, as (domain event, is it a correction) in log order."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.cities = [f"city-{n:05d}" for n in range(CITIES)]
        self.networks = [f"net-{n:03d}" for n in range(NETWORKS)]
        self.city_weights = zipf_weights(CITIES, 50, 0.8)
        self.network_weights = zipf_weights(NETWORKS, 10, 1.0)
        self.registered: list[str] = []
        self.is_registered: set[str] = set()
        self.periods: dict[tuple[str, str], list[Membership]] = {}
        self.memberships: list[Membership] = []
        self.open_memberships: Pool[Membership] = Pool()
        self.roles: list[Role] = []
        self.open_roles: Pool[Role] = Pool()
        self.role_count: dict[tuple[str, str], int] = {}
        self.programs: list[Program] = []
        self.open_programs: Pool[Program] = Pool()
        self.participations: Pool[ev.PartnerJoinedProgram] = Pool()
        self.activities: list[ev.ActivityRecorded] = []
        self.commitments = 0
        self.action_names = list(ACTIONS)
        self.action_weights = list(ACTIONS.values())

    def __iter__(self) -> Iterator[tuple[object, bool]]:
        yield (
            ev.SourceRegistered(key="bench-synthetic", title="Synthetic", sections=["history"]),
            False,
        )
        for n, network in enumerate(self.networks):
            yield (
                ev.PartnerRegistered(
                    key=network, name=f"Network {n}", kind="network", description="synthetic"
                ),
                False,
            )
            yield ev.BodyRegistered(network=network, body="sc", name="Steering Committee"), False
        while True:
            action = self.rng.choices(self.action_names, self.action_weights)[0]
            made = getattr(self, action)()
            if not made:
                made = self.membership_started()
            yield from made

    # --- picking -------------------------------------------------------------------------

    def city(self) -> str:
        return self.rng.choices(self.cities, cum_weights=self.city_weights)[0]

    def network(self) -> str:
        return self.rng.choices(self.networks, cum_weights=self.network_weights)[0]

    def registered_city(self) -> str:
        return self.registered[self.rng.randrange(len(self.registered))]

    def partial(self, year: int, unknown: float = 0.0) -> PartialDate:
        """A date in `year` at a random precision (or, with probability `unknown`, none)."""
        draw = self.rng.random()
        if draw < unknown:
            return PartialDate()
        draw = (draw - unknown) / (1 - unknown)
        if draw < 0.35:
            return PartialDate(year)
        month = self.rng.randint(1, 12)
        if draw < 0.65:
            return PartialDate(year, month)
        return PartialDate(year, month, self.rng.randint(1, 28))

    def later(self, since: PartialDate, least: int, most: int) -> PartialDate | None:
        """A date `least`..`most` years after `since` (None past 2024)."""
        start = since.year if since.year is not None else self.rng.randint(1995, 2015)
        year = start + self.rng.randint(least, most)
        return None if year > 2024 else self.partial(year)

    def register(self, city: str) -> list[tuple[object, bool]]:
        if city in self.is_registered:
            return []
        self.is_registered.add(city)
        self.registered.append(city)
        n = int(city.rsplit("-", 1)[1])
        registered = ev.PartnerRegistered(
            key=city,
            name=f"City {n}",
            kind="city",
            country=COUNTRIES[n % len(COUNTRIES)],
            region=REGIONS[n % len(REGIONS)],
        )
        return [(registered, False)]

    # --- memberships ---------------------------------------------------------------------

    def membership_started(self) -> list[tuple[object, bool]]:
        for _ in range(20):
            member, network = self.city(), self.network()
            earlier = self.periods.setdefault((member, network), [])
            if earlier and earlier[-1].until is None:
                continue  # still a member: try another pair
            if earlier:
                assert earlier[-1].until is not None
                since = self.later(earlier[-1].until, 1, 4)
                if since is None:
                    continue
            else:
                since = self.partial(self.rng.randint(1990, 2023), unknown=0.05)
            made = self.register(member)
            period = Membership(
                f"{member}@{network}#{len(earlier) + 1}", member, network, since, None, []
            )
            if self.rng.random() < 0.3:
                period.notes = [f"joined at the {since.year or 'first'} meeting"]
            earlier.append(period)
            self.memberships.append(period)
            self.open_memberships.add(period)
            started = ev.MembershipStarted(
                membership_id=period.membership_id,
                member=member,
                network=network,
                since=since,
                notes=list(period.notes),
            )
            return [*made, (started, False)]
        return []

    def membership_ended(self) -> list[tuple[object, bool]]:
        if not self.open_memberships:
            return []
        period = self.open_memberships.pick(self.rng)
        until = self.later(period.since, 1, 12)
        if until is None:
            return []
        self.open_memberships.remove(period)
        period.until = until
        ended = ev.MembershipEnded(
            membership_id=period.membership_id,
            member=period.member,
            network=period.network,
            until=until,
        )
        return [(ended, False)]

    def membership_corrected(self) -> list[tuple[object, bool]]:
        if not self.memberships:
            return []
        period = self.memberships[self.rng.randrange(len(self.memberships))]
        since, fields = period.since, ["notes"]
        if since.year is None:
            since, fields = PartialDate(self.rng.randint(1990, 2005)), ["since"]
        elif since.month is None:
            since, fields = PartialDate(since.year, self.rng.randint(1, 12)), ["since"]
        elif since.day is None:
            since, fields = PartialDate(since.year, since.month, 1), ["since"]
        if period.until is not None and not since.latest < period.until.earliest:
            since, fields = period.since, ["notes"]
        period.since = since
        if "notes" in fields or self.rng.random() < 0.3:
            period.notes = [*period.notes, "corrected from the minutes"]
            fields = sorted({*fields, "notes"})
        corrected = ev.MembershipCorrected(
            membership_id=period.membership_id,
            member=period.member,
            network=period.network,
            since=since,
            until=period.until,
            notes=list(period.notes),
            corrected_fields=fields,
        )
        return [(corrected, True)]

    # --- roles ---------------------------------------------------------------------------

    def role_assigned(self) -> list[tuple[object, bool]]:
        if not self.open_memberships:
            return []
        period = self.open_memberships.pick(self.rng)
        pair = (period.member, period.network)
        self.role_count[pair] = n = self.role_count.get(pair, 0) + 1
        start = period.since.year or self.rng.randint(1995, 2015)
        since = self.partial(min(start + self.rng.randint(0, 5), 2024), unknown=0.1)
        role = Role(
            role_id=f"{period.member}@{period.network}#role-{n}",
            holder=period.member,
            network=period.network,
            body="sc" if self.rng.random() < 0.5 else None,
            position=self.rng.choice(POSITIONS),
            since=since,
        )
        self.roles.append(role)
        self.open_roles.add(role)
        assigned = ev.RoleAssigned(
            role_id=role.role_id,
            holder=role.holder,
            network=role.network,
            body=role.body,
            position=role.position,
            since=since,
            held_as_of=None if since.known else self.partial(2020),
            notes=[],
        )
        return [(assigned, False)]

    def role_ended(self) -> list[tuple[object, bool]]:
        if not self.open_roles:
            return []
        role = self.open_roles.pick(self.rng)
        until = self.later(role.since, 1, 6)
        if until is None:
            return []
        self.open_roles.remove(role)
        role.until = until
        ended = ev.RoleEnded(
            role_id=role.role_id,
            holder=role.holder,
            network=role.network,
            body=role.body,
            position=role.position,
            until=until,
        )
        return [(ended, False)]

    def role_corrected(self) -> list[tuple[object, bool]]:
        if not self.roles:
            return []
        role = self.roles[self.rng.randrange(len(self.roles))]
        role.holder_title = "Governor"
        corrected = ev.RoleCorrected(
            role_id=role.role_id,
            holder=role.holder,
            network=role.network,
            body=role.body,
            position=role.position,
            holder_title=role.holder_title,
            since=role.since,
            until=role.until,
            held_as_of=None if role.since.known else self.partial(2020),
            notes=["title from the meeting record"],
            corrected_fields=["holder_title"],
        )
        return [(corrected, True)]

    # --- programs ------------------------------------------------------------------------

    def program_launched(self) -> list[tuple[object, bool]]:
        if not self.registered:
            return []
        n = len(self.programs) + 1
        launched = ev.ProgramLaunched(
            key=f"program-{n:05d}",
            name=f"Program {n}",
            field=self.rng.choice(FIELDS),
            kind=self.rng.choice(KINDS),
            topics=self.rng.sample(TOPICS, 2),
            lead=self.registered_city(),
            network=self.network() if self.rng.random() < 0.3 else None,
            since=self.partial(self.rng.randint(1995, 2023), unknown=0.05),
        )
        program = Program(launched)
        self.programs.append(program)
        self.open_programs.add(program)
        return [(launched, False)]

    def partner_joined_program(self) -> list[tuple[object, bool]]:
        if not self.open_programs:
            return self.program_launched()
        program = self.open_programs.pick(self.rng)
        partner = self.registered_city()
        if partner in program.partners:
            return []
        program.partners.add(partner)
        key = program.event.key
        start = program.event.since.year or 2000
        joined = ev.PartnerJoinedProgram(
            participation_id=f"{key}/{partner}#1",
            program=key,
            partner=partner,
            since=self.partial(min(start + self.rng.randint(0, 4), 2024)),
        )
        self.participations.add(joined)
        return [(joined, False)]

    def partner_left_program(self) -> list[tuple[object, bool]]:
        if not self.participations:
            return []
        joined = self.participations.pick(self.rng)
        until = self.later(joined.since, 1, 6)
        if until is None:
            return []
        self.participations.remove(joined)
        left = ev.PartnerLeftProgram(
            participation_id=joined.participation_id,
            program=joined.program,
            partner=joined.partner,
            until=until,
        )
        return [(left, False)]

    def program_concluded(self) -> list[tuple[object, bool]]:
        if not self.open_programs:
            return []
        program = self.open_programs.pick(self.rng)
        until = self.later(program.event.since, 3, 15)
        if until is None:
            return []
        self.open_programs.remove(program)
        program.until = until
        return [(ev.ProgramConcluded(key=program.event.key, until=until), False)]

    def program_corrected(self) -> list[tuple[object, bool]]:
        if not self.programs:
            return []
        program = self.programs[self.rng.randrange(len(self.programs))]
        launched = program.event
        corrected = ev.ProgramCorrected(
            key=launched.key,
            name=launched.name,
            field=launched.field,
            kind=launched.kind,
            topics=launched.topics,
            lead=launched.lead,
            network=launched.network,
            since=launched.since,
            until=program.until,
            description="scope as agreed in the memorandum",
            corrected_fields=["description"],
        )
        return [(corrected, True)]

    # --- partners, activities, commitments, bodies ---------------------------------------

    def partner_updated(self) -> list[tuple[object, bool]]:
        network = self.network()
        n = int(network.rsplit("-", 1)[1])
        updated = ev.PartnerUpdated(
            key=network,
            name=f"Network {n} ({self.rng.randint(1, 99)})",
            kind="network",
            description="synthetic",
            effective=self.partial(self.rng.randint(2000, 2024)),
            changed_fields=["name"],
        )
        return [(updated, False)]

    def partner_corrected(self) -> list[tuple[object, bool]]:
        if not self.registered:
            return []
        city = self.registered_city()
        n = int(city.rsplit("-", 1)[1])
        corrected = ev.PartnerCorrected(
            key=city,
            name=f"City {n}",
            kind="city",
            country=self.rng.choice(COUNTRIES),
            region=REGIONS[n % len(REGIONS)],
            corrected_fields=["country"],
        )
        return [(corrected, True)]

    def activity_recorded(self) -> list[tuple[object, bool]]:
        if len(self.registered) < 10:
            return []
        n = len(self.activities) + 1
        network = self.network()
        recorded = ev.ActivityRecorded(
            key=f"activity-{n:06d}",
            name=f"Meeting {n}",
            kind=self.rng.choice(["workshop", "annual_meeting", "committee_meeting"]),
            on=self.partial(self.rng.randint(2000, 2024)),
            mode=self.rng.choice(["online", "in_person", None]),
            organiser=network,
            participants=sorted(self.rng.sample(self.registered, 4)),
            representatives=[],
            network=network,
        )
        self.activities.append(recorded)
        return [(recorded, False)]

    def activity_corrected(self) -> list[tuple[object, bool]]:
        if not self.activities:
            return []
        recorded = self.activities[self.rng.randrange(len(self.activities))]
        participants = sorted({*recorded.participants, self.registered_city()})
        corrected = ev.ActivityCorrected(
            key=recorded.key,
            name=recorded.name,
            kind=recorded.kind,
            on=recorded.on,
            mode=recorded.mode,
            organiser=recorded.organiser,
            participants=participants,
            representatives=[],
            network=recorded.network,
            corrected_fields=["participants"],
        )
        return [(corrected, True)]

    def commitment_announced(self) -> list[tuple[object, bool]]:
        if not self.activities:
            return []
        self.commitments += 1
        activity = self.activities[self.rng.randrange(len(self.activities))]
        announced = ev.CommitmentAnnounced(
            key=f"commitment-{self.commitments:05d}",
            by=activity.participants[0],
            on=activity.on,
            activity=activity.key,
            statement="Act against the climate crisis with businesses and NGOs.",
            focus_areas=self.rng.sample(TOPICS, 2),
            collaborators=[activity.organiser or activity.participants[1]],
        )
        return [(announced, False)]

    def body_size_recorded(self) -> list[tuple[object, bool]]:
        recorded = ev.BodySizeRecorded(
            network=self.network(),
            body="sc",
            size=self.rng.randint(8, 30),
            as_of=self.partial(self.rng.randint(2000, 2024)),
        )
        return [(recorded, False)]


def synthetic_log(seed: int, count: int) -> Iterator[RecordedEvent]:
    """The first `count` events of the world's history as a valid hash-chained log."""
    history = ((event, CORRECTION if correction else PLAIN) for event, correction in World(seed))
    return islice(chained(history, seed + 1), count)


# --- building a database ------------------------------------------------------------------


@dataclass
class Built:
    engine_name: str
    events: int
    url: str
    import_seconds: float
    rebuild_seconds: dict[str, float]
    membership_rows: int = 0
    rows_per_network: tuple[int, int, int] = (0, 0, 0)  # least, median, most

    @property
    def rebuild_total(self) -> float:
        return sum(self.rebuild_seconds.values())


class Ticker:
    """Progress on stderr, at most every 20 seconds."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.last = time.monotonic()

    def __call__(self, done: int, total: int, rate: float) -> None:
        now = time.monotonic()
        if now - self.last >= 20:
            self.last = now
            print(f"  .. {self.label}: {done:,}/{total:,} at {rate:,.0f} ev/s", file=sys.stderr)


async def build(
    engine_name: str, url: str, log_events: Sequence[RecordedEvent], rebuild: str
) -> Built:
    """Write the log (no projector attached), then rebuild projections from it: every one
    (`rebuild` "all") or only the memberships the queries read."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        log = EventStore(engine, cooperation_events)
        started = time.perf_counter()
        count = len(log_events)
        for first in range(0, count, IMPORT_BATCH):
            await log.import_events(log_events[first : first + IMPORT_BATCH])
        imported = time.perf_counter() - started
        projections = Projections(EventStore(engine, cooperation_events), built_in_projectors())
        await projections.ensure_checkpoints()
        seconds: dict[str, float] = {}
        for name in projections.projectors if rebuild == "all" else ["memberships"]:
            started = time.perf_counter()
            await projections.rebuild(name, progress=Ticker(f"{engine_name} {count:,} {name}"))
            seconds[name] = time.perf_counter() - started
        await settle(engine)
        async with engine.connect() as connection:
            query = "SELECT count(*) FROM memberships GROUP BY network"
            rows = (await connection.exec_driver_sql(query)).scalars().all()
        counts = sorted(int(n) for n in rows)
        return Built(
            engine_name,
            count,
            url,
            imported,
            seconds,
            sum(counts),
            (counts[0], counts[len(counts) // 2], counts[-1]),
        )
    finally:
        await engine.dispose()


async def settle(engine: AsyncEngine) -> None:
    """On PostgreSQL, what autovacuum would soon do anyway: vacuum and analyze, so it does
    not start in the middle of the timings and the planner knows the tables."""
    if engine.dialect.name != "postgresql":
        return  # the service never runs ANALYZE on SQLite: plan as it would
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql("VACUUM (ANALYZE)")


# --- queries ------------------------------------------------------------------------------

Pair = tuple[str, date]


@dataclass(frozen=True)
class Timing:
    kind: str  # "as of" or "known at"
    events: int
    index: str  # a key of INDEXES
    seconds: list[float]
    rows: float  # mean rows per answer

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.seconds)
        return ordered[max(0, -(-len(ordered) * 99 // 100) - 1)] * 1000


async def head_position(connection: AsyncConnection) -> int:
    return int(await connection.scalar(text("SELECT max(position) FROM events")) or 0)


async def full_pairs(url: str, wanted: int, page: int, seed: int) -> tuple[list[Pair], list[Pair]]:
    """Random (network, day) pairs whose answer on this (small) log is a full page: for as
    of, and for known at the middle of the log."""
    rng = random.Random(seed + 2)
    span = (LAST_DAY - FIRST_DAY).days
    engine = create_engine(url)
    chosen: dict[str, list[Pair]] = {"as of": [], "known at": []}
    try:
        async with engine.connect() as connection:
            middle = await head_position(connection) // 2
            for kind, position in (("as of", None), ("known at", middle)):
                for _ in range(200 * wanted):
                    if len(chosen[kind]) == wanted:
                        break
                    pair = (
                        f"net-{rng.randrange(NETWORKS):03d}",
                        FIRST_DAY + timedelta(days=rng.randrange(span)),
                    )
                    basis = Basis(as_of=pair[1], position=position)
                    found = await members_page(connection, pair[0], basis, Page(limit=page))
                    if len(found.rows) == page:
                        chosen[kind].append(pair)
    finally:
        await engine.dispose()
    return chosen["as of"], chosen["known at"]


async def time_queries(
    urls: dict[int, str], kind: str, pairs: Sequence[Pair], page: int, index: str
) -> list[Timing]:
    """Time the query at every size, interleaved pair by pair (alternating which size goes
    first), so both sizes see the same load on the machine."""
    engines = {count: create_engine(url) for count, url in urls.items()}
    try:
        async with AsyncExitStack() as stack:
            connections, positions = {}, {}
            for count, engine in engines.items():
                connection = await stack.enter_async_context(engine.connect())
                connections[count] = connection
                middle = await head_position(connection) // 2
                positions[count] = None if kind == "as of" else middle
                for network, day in pairs[:20]:  # warm the connection and statement caches
                    basis = Basis(day, positions[count])
                    await members_page(connection, network, basis, Page(limit=page))
            seconds: dict[int, list[float]] = {count: [] for count in urls}
            rows = dict.fromkeys(urls, 0)
            gc.collect()
            for number, (network, day) in enumerate(pairs):
                order = list(urls) if number % 2 == 0 else list(reversed(urls))
                for count in order:
                    basis = Basis(as_of=day, position=positions[count])
                    started = time.perf_counter()
                    found = await members_page(connections[count], network, basis, Page(limit=page))
                    seconds[count].append(time.perf_counter() - started)
                    rows[count] += len(found.rows)
        n = max(len(pairs), 1)
        return [Timing(kind, count, index, seconds[count], rows[count] / n) for count in urls]
    finally:
        for engine in engines.values():
            await engine.dispose()


async def rows_read(url: str, kind: str, pairs: Sequence[Pair], page: int) -> float:
    """The mean number of a network's rows read in (network, key, slice) order before the
    page is full: the work a key-ordered index leaves, whatever the engine's speed."""
    engine = create_engine(url)
    table = memberships
    try:
        async with engine.connect() as connection:
            position = None if kind == "as of" else await head_position(connection) // 2
            query = (
                select(
                    table.c.network,
                    table.c.record_from,
                    table.c.record_to,
                    table.c.valid_from_lo,
                    table.c.valid_to_hi,
                )
                .where(table.c.network.in_(sorted({network for network, _ in pairs})))
                .order_by(table.c.network, table.c.key, table.c.slice)
            )
            by_network: dict[str, list[Any]] = {}
            for row in await connection.execute(query):
                by_network.setdefault(row.network, []).append(row)
    finally:
        await engine.dispose()
    total = sum(walk(by_network.get(network, []), day, position, page) for network, day in pairs)
    return total / max(len(pairs), 1)


async def query_plan(url: str, pair: Pair, position: int | None, page: int) -> list[str]:
    """The plan of the statement members_page sends, as the engine explains it."""
    engine = create_engine(url)
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Connection, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM memberships" in statement:
            sent.append((statement, parameters))

    try:
        async with engine.connect() as connection:
            if position is not None:
                position = await head_position(connection) // 2
            event.listen(engine.sync_engine, "before_cursor_execute", capture)
            await members_page(connection, pair[0], Basis(pair[1], position), Page(limit=page))
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
            statement, parameters = sent[-1]
            if engine.dialect.name == "postgresql":
                explain = f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}"
                result = await connection.exec_driver_sql(explain, parameters)
                return [str(row[0]) for row in result]
            result = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            return [str(row[-1]) for row in result]
    finally:
        await engine.dispose()


def walk(rows: Sequence[Any], day: date, position: int | None, page: int) -> int:
    """How many of `rows` (in key order) are read before `page` of them match."""
    found = read = 0
    for row in rows:
        read += 1
        if position is None:
            held = row.record_to is None
        else:
            held = row.record_from <= position and (
                row.record_to is None or row.record_to > position
            )
        if held and row.valid_from_lo <= day <= row.valid_to_hi:
            found += 1
            if found == page:
                break
    return read


async def use_index(url: str, index: str) -> float:
    """Replace the network index of memberships by one of INDEXES; returns the seconds."""
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        async with engine.begin() as connection:
            for statement in INDEXES[index]:
                await connection.exec_driver_sql(statement)
        await settle(engine)
        return time.perf_counter() - started
    finally:
        await engine.dispose()


# --- databases ----------------------------------------------------------------------------


# --- report -------------------------------------------------------------------------------


def build_text(b: Built) -> str:
    least, middle, most = b.rows_per_network
    everything = len(b.rebuild_seconds) > 1
    total = f"{b.rebuild_total:>10.1f}" if everything else f"{'-':>10}"
    rate = f"{b.events / b.rebuild_total:>10,.0f}" if everything else f"{'-':>10}"
    return (
        f"{b.engine_name:<9}{b.events:>11,}{b.events / b.import_seconds:>11,.0f}{total}{rate}"
        f"{b.rebuild_seconds['memberships']:>9.1f}"
        f"{b.events / b.rebuild_seconds['memberships']:>11,.0f}"
        f"{b.membership_rows:>11,}   {least:,}/{middle:,}/{most:,}"
    )


BUILD_HEADER = (
    f"{'engine':<9}{'events':>11}{'import/s':>11}{'all s':>10}{'all ev/s':>10}"
    f"{'membs s':>9}{'membs ev/s':>11}{'memb rows':>11}   rows per network (min/median/max)"
)
TIMING_HEADER = (
    f"{'engine':<9}{'query':<10}{'indexes':<18}{'events':>11}{'rows':>6}"
    f"{'median ms':>11}{'p99 ms':>9}{'vs small':>10}"
)


def timing_text(engine: str, t: Timing, small: Timing | None) -> str:
    ratio = f"{t.median_ms / small.median_ms:.2f}x" if small else ""
    return (
        f"{engine:<9}{t.kind:<10}{t.index:<18}{t.events:>11,}{t.rows:>6.0f}"
        f"{t.median_ms:>11.2f}{t.p99_ms:>9.2f}{ratio:>10}"
    )


async def bench_engine(
    name: str, args: argparse.Namespace, log: Sequence[RecordedEvent]
) -> list[tuple[str, Timing, Timing | None]]:
    lines: list[tuple[str, Timing, Timing | None]] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="coop_bench_") as directory:
        async with (
            database(name, directory, "small") as small_url,
            database(name, directory, "large") as large_url,
        ):
            urls = {args.small: small_url, args.large: large_url}
            for count, url in urls.items():
                rebuild = "all" if count == args.small else args.large_rebuild
                built = await build(name, url, log[:count], rebuild)
                print(build_text(built), flush=True)
            as_of, known_at = await full_pairs(small_url, args.queries, args.page, args.seed)
            networks = len({n for n, _ in as_of + known_at})
            print(
                f"  {len(as_of)} as-of and {len(known_at)} known-at pairs over {networks}"
                f" networks, each a full page of {args.page} on the small log",
                flush=True,
            )
            kinds = [
                (kind, pairs) for kind, pairs in (("as of", as_of), ("known at", known_at)) if pairs
            ]
            for kind, pairs in kinds:
                read = [await rows_read(url, kind, pairs, args.page) for url in urls.values()]
                print(
                    f"  {kind}: a network's rows read in (network, key, slice) order to fill"
                    f" a page: {read[0]:.0f} on the small log, {read[1]:.0f} on the large",
                    flush=True,
                )
            indexes = ["as is"] if args.no_index_experiment else list(INDEXES)
            for index in indexes:
                for count, url in urls.items():
                    if INDEXES[index]:
                        seconds = await use_index(url, index)
                        print(f"  {index} index on {count:,} events: {seconds:.1f} s")
                for kind, pairs in kinds:
                    small, large = await time_queries(urls, kind, pairs, args.page, index)
                    lines.append((name, large, small))
                    print("  " + timing_text(name, small, None), flush=True)
                    print("  " + timing_text(name, large, small), flush=True)
                for kind, pairs in kinds:
                    pair, position = pairs[0], None if kind == "as of" else 0
                    plan = await query_plan(large_url, pair, position, args.page)
                    print(f"  plan, {kind}, {args.large:,} events, {index}: {pair[0]} {pair[1]}")
                    for line in plan:
                        print(f"    {line}")
    print(f"  {name}: {(time.perf_counter() - started) / 60:.1f} minutes in all", flush=True)
    return lines


def verdict(lines: list[tuple[str, Timing, Timing | None]]) -> list[str]:
    out = []
    for engine, timing, small in lines:
        if small is None:
            continue
        ratio = timing.median_ms / small.median_ms
        held = "holds" if ratio <= TARGET else "does NOT hold"
        out.append(
            f"{engine:<9}{timing.kind:<10}{timing.index:<18} median {ratio:.2f}x"
            f" of the small log's: {held}"
        )
    return out


async def run(args: argparse.Namespace) -> None:
    engines = args.engines.split(",")
    print(f"machine: {await machine(engines)}")
    print(
        f"history: {CITIES:,} cities, {NETWORKS} networks; logs of {args.small:,} and"
        f" {args.large:,} events (the small one a prefix of the large); seed {args.seed}"
    )
    print("import: EventStore.import_events, 1,000 a batch, no projector attached (the log alone)")
    print(
        "rebuild: Projections.rebuild of all 7 built-in projectors one after another (all s,"
        " all ev/s = log events / all s), and the memberships projector's own (membs s, membs"
        f" ev/s); the large log rebuilds {args.large_rebuild}\n"
    )
    started = time.perf_counter()
    log = list(synthetic_log(args.seed, args.large))
    print(f"generated {len(log):,} events in {time.perf_counter() - started:.0f} s\n")
    print(BUILD_HEADER, flush=True)
    lines = []
    for engine in engines:
        lines += await bench_engine(engine, args, log)
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")
    print(f"target: median at {args.large:,} events within {TARGET}x of {args.small:,}")
    for line in verdict(lines):
        print(line)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--small", type=int, default=SMALL, help="events in the small log")
    parser.add_argument("--large", type=int, default=LARGE, help="events in the large log")
    parser.add_argument("--queries", type=int, default=300, help="(network, day) pairs per query")
    parser.add_argument("--page", type=int, default=20, help="rows per answer")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--engines", default="sqlite,postgres", help="comma-separated")
    parser.add_argument(
        "--large-rebuild",
        choices=["memberships", "all"],
        default="memberships",
        help="projections rebuilt on the large log (the queries read memberships)",
    )
    parser.add_argument("--no-index-experiment", action="store_true")
    args = parser.parse_args()
    unknown = set(args.engines.split(",")) - {"sqlite", "postgres"}
    if unknown:
        parser.error(f"unknown engine(s): {', '.join(sorted(unknown))}")
    if not 0 < args.small < args.large:
        parser.error("--small must be positive and below --large")
    return args


def main() -> None:
    asyncio.run(run(arguments()))


if __name__ == "__main__":
    main()
