"""One fold, three ways: live (each append in its transaction), caught up in pages of
random sizes, and rebuilt from scratch in memory in pages of random sizes, on both engines.
Every way gives the same digest of every read model."""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

from sqlalchemy import event, text, update

from domain.events import (
    ActivityCorrected,
    ActivityRecorded,
    ActivityRetracted,
    BodyRegistered,
    BodySizeRecorded,
    CommitmentAnnounced,
    CommitmentCorrected,
    CommitmentRetracted,
    MembershipCorrected,
    MembershipEnded,
    MembershipRetracted,
    MembershipStarted,
    PartnerCorrected,
    PartnerRegistered,
    PartnerRetracted,
    PartnerUpdated,
    SourceRegistered,
)
from events.dates import PartialDate
from projections.framework import checkpoints
from service.services import Services
from tests.conftest import POSTGRES_URL
from tests.projections.history import ESCAPED, random_history
from tests.projections.test_framework import _fresh_services


async def record(services: Services, seed: int, steps: int) -> None:
    for stream, events in random_history(seed, steps):
        await services.store.append(stream, events)


async def test_live_paged_and_rebuilt_folds_give_one_digest(
    services: Services, tmp_path: Path
) -> None:
    await record(services, seed=15, steps=400)
    live = await services.projections.digests()
    projections = services.projections
    names = sorted(projections.projectors)
    rng = random.Random(15)

    for page in [10_000, 1, *rng.sample(range(2, 120), 3)]:
        for in_database in (False, True):
            rebuilt = await projections.rebuild_many(names, page=page, in_database=in_database)
            assert rebuilt.switched
            assert rebuilt.head == (await services.store.head()).position
            assert await projections.digests() == live, f"pages of {page}, {in_database=}"

    for page in rng.sample(range(1, 90), 3):
        async with services.engine.begin() as connection:
            for projector in projections.projectors.values():
                for table in projector.TABLES:
                    await connection.execute(text(f"DELETE FROM {table.name}"))
            await connection.execute(update(checkpoints).values(position=0))
        await projections.catch_up(page=page)
        assert await projections.digests() == live, f"caught up in pages of {page}"

    # The same log on the other engine (when there is one), imported page by page through
    # the live path, then rebuilt there: the same digests again.
    other = "postgres" if POSTGRES_URL and services.engine.dialect.name == "sqlite" else "sqlite"
    async for copy in _fresh_services(tmp_path, other):
        log = await services.store.read_all(limit=10_000)
        cut = rng.randrange(1, len(log))
        await copy.store.import_events(log[:cut])
        await copy.store.import_events(log[cut:])
        assert await copy.projections.digests() == live
        await copy.projections.rebuild_many(names, page=rng.randrange(1, 200))
        assert await copy.projections.digests() == live


async def test_events_appended_during_a_rebuild_are_folded_before_the_switch(
    services: Services,
) -> None:
    """Events appended while a rebuild reads the log are folded, under the write lock, by
    the live path into the fresh tables before they take the live ones' place; those
    appended after the switch, by the live path into the switched tables."""
    history = random_history(seed=7, steps=300)
    for stream, events in history[:150]:
        await services.store.append(stream, events)
    before = (await services.store.head()).position
    projections = services.projections
    seen: list[tuple[int, int]] = []
    rebuilding = asyncio.ensure_future(
        projections.rebuild_many(
            sorted(projections.projectors), lambda done, total, _: seen.append((done, total)), 7
        )
    )
    for stream, events in history[150:]:
        await services.store.append(stream, events)
        await asyncio.sleep(0)
    rebuilt = await rebuilding
    assert rebuilt.head > before  # it met appends made while it ran
    assert {status.lag for status in await projections.status()} == {0}
    live = await projections.digests()
    await projections.rebuild_many(sorted(projections.projectors))
    assert await projections.digests() == live
    assert seen
    assert seen[-1][0] == seen[-1][1]


# Projectors whose rebuild from scratch can run as SQL in the database (fold_in_database).
IN_DATABASE = [
    "activities",
    "commitments",
    "memberships",
    "partners",
    "programs",
    "roles",
    "sources",
]


async def test_folds_in_the_database_give_the_python_folds_digest(services: Services) -> None:
    """Each projector that can fold in the database alone gives, on random histories and on
    the awkward cases below, the digest its Python fold gives live and rebuilt; and it did
    fold there (no event read in Python)."""
    await record(services, seed=29, steps=700)  # one seed: the ids of two would collide
    mid = "city-1@net-9#odd"
    awkward: list[tuple[str, list[object]]] = [
        # An end and a correction before the start, then notes that JSON escapes.
        (
            "membership:odd",
            [
                MembershipEnded(
                    membership_id=mid, member="city-1", network="net-9", until=PartialDate(2001)
                )
            ],
        ),
        (
            "membership:odd",
            [
                MembershipCorrected(
                    membership_id=mid,
                    member="city-1",
                    network="net-9",
                    since=PartialDate(1999),
                    notes=["x"],
                    corrected_fields=["since"],
                )
            ],
        ),
        (
            "membership:odd",
            [
                MembershipStarted(
                    membership_id=mid,
                    member="city-1",
                    network="net-9",
                    since=PartialDate(2000, 2),
                    notes=['Tōkyō "quoted", back\\slash', "tab\there", "✓ / </>"],
                )
            ],
        ),
        (
            "membership:odd",
            [
                MembershipEnded(
                    membership_id=mid, member="city-1", network="net-9", until=PartialDate()
                )
            ],
        ),
        (
            "membership:odd",
            [
                MembershipCorrected(
                    membership_id=mid,
                    member="city-1",
                    network="net-9",
                    since=PartialDate(),
                    until=PartialDate(2024, 2),
                    notes=[],
                    corrected_fields=["since", "until"],
                )
            ],
        ),
        (
            "membership:odd",
            [
                MembershipRetracted(membership_id=mid, member="city-1", network="net-9"),
                MembershipEnded(
                    membership_id=mid, member="city-1", network="net-9", until=PartialDate(2030)
                ),
            ],
        ),
    ]
    # The first and last days there are (PostgreSQL holds date.min and date.max as
    # -infinity and infinity), and a body's size recorded before it was registered.
    for n, (since, until) in enumerate(
        [
            (PartialDate(1), PartialDate(9999, 12)),
            (PartialDate(1, 1, 1), PartialDate(9999)),
            (PartialDate(2000), PartialDate(9999, 12, 31)),
        ]
    ):
        key = dict(membership_id=f"edge-{n}", member="city-3", network="net-9")
        awkward.append(
            (
                "membership:edge",
                [
                    MembershipStarted(**key, since=since, notes=[]),
                    MembershipEnded(**key, until=until),
                ],
            )
        )
    awkward.append(
        (
            "body:net-9.x",
            [BodySizeRecorded(network="net-9", body="x", size=3, as_of=PartialDate(2001))],
        )
    )
    awkward.append(("body:net-9.x", [BodyRegistered(network="net-9", body="x", name="X")]))
    awkward += odd_partner() + partner_history(random.Random(29), steps=300)
    awkward += odd_activities_commitments_and_sources()
    for stream, events in awkward:
        await services.store.append(stream, events)
    projections = services.projections
    live = await projections.digests()
    # Row by row in the database, as stored (the digest reads values back through the
    # driver, which would not tell apart two spellings of one date), against the live fold.
    compared = await projections.rebuild_many(IN_DATABASE, dry_run=True)
    assert compared.events == 0
    assert compared.diffs is not None
    assert [d.table for d in compared.diffs if not d.same] == []
    for name in IN_DATABASE:
        in_python = await projections.rebuild_many([name], in_database=False)
        assert in_python.events > 0
        assert await projections.digests() == live, f"{name} rebuilt in Python"
        in_database = await projections.rebuild_many([name])
        assert in_database.events == 0, f"{name} did not fold in the database"
        assert await projections.digests() == live, f"{name} folded in the database"


def odd_partner() -> list[tuple[str, list[object]]]:
    """A partner's changes dated out of order, on one first day ("2006", "2006-01",
    "2006-01-01"), unknown, undated, corrected, in one append or several; an update before
    its registration and one after its retraction."""
    key = "odd-partner"

    def updated(effective: PartialDate | None, name: str) -> PartnerUpdated:
        return PartnerUpdated(
            key=key, name=name, kind="city", effective=effective, changed_fields=["name"]
        )

    day = PartialDate.parse
    events: list[list[object]] = [
        [updated(day("2001"), "early")],
        [PartnerRegistered(key=key, name='Tōkyō "odd"', kind="city", region="R")],
        [updated(day("2006"), "a"), updated(day("2001-05"), "b")],
        [updated(day("2006-01-01"), "c")],
        [updated(day("2006-01"), "d"), updated(PartialDate(), "e")],
        [updated(None, "f")],
        [PartnerCorrected(key=key, name="g", kind="network", corrected_fields=["kind"])],
        [updated(day("2010-02"), "h"), updated(day("1999"), "i"), updated(day("2000"), "j")],
        [updated(day("2020-12-31"), "k"), updated(PartialDate(), "l"), updated(None, "m")],
        [PartnerRetracted(key=key), updated(day("2030"), "late")],
    ]
    return [(f"partner:{key}", append) for append in events]


def partner_history(rng: random.Random, steps: int) -> list[tuple[str, list[object]]]:
    """Random partners' registrations, updates dated on a few days (partial, unknown, in
    and out of order, on one first day) and undated, corrections and retractions."""
    shapes = ["unknown", "2003", "2003-01", "2003-01-01", "2003-12", "2003-12-31", "2002-06"]
    keys = [f"partner-{n}" for n in range(8)]
    appends: list[tuple[str, list[object]]] = []
    registered: set[str] = set()
    for step in range(steps):
        key = rng.choice(keys)
        pick = rng.random()
        event: object
        if key not in registered and pick < 0.5:
            registered.add(key)
            event = PartnerRegistered(
                key=key, name=key, kind="city", country=rng.choice([None, "X"])
            )
        elif pick < 0.7:
            effective = rng.choice([None, PartialDate.parse(rng.choice(shapes))])
            event = PartnerUpdated(
                key=key,
                name=f"{key} {step}",
                kind="city",
                region=rng.choice([None, "R"]),
                description=rng.choice([None, f"d{step}"]),
                effective=effective,
                changed_fields=["name"],
            )
        elif pick < 0.99:
            event = PartnerCorrected(
                key=key, name=f"{key}!{step}", kind="network", corrected_fields=["name"]
            )
        else:
            event = PartnerRetracted(key=key)
        appends.append((f"partner:{key}", [event]))
    return appends


def odd_activities_commitments_and_sources() -> list[tuple[str, list[object]]]:
    """A correction before the recording (its partners take part, the activity is not
    recorded yet), partners named twice or empty, a correction naming none, one after the
    retraction (its partners take part again), the first and last days there are."""
    appends: list[tuple[str, list[object]]] = []
    key = "activity-odd"

    def corrected(on: PartialDate, organiser: str | None, *participants: str) -> object:
        return ActivityCorrected(
            key=key,
            name=ESCAPED,
            kind="annual_meeting",
            on=on,
            organiser=organiser,
            participants=list(participants),
            representatives=[ESCAPED, ""],
            corrected_fields=["participants"],
        )

    recorded = ActivityRecorded(
        key=key,
        name="odd",
        kind="workshop",
        on=PartialDate(1, 1, 1),
        mode="in_person",
        organiser="",
        participants=["city-1", "", "city-1", "city-2"],
        representatives=[],
        description=ESCAPED,
    )
    for events in [
        [corrected(PartialDate(2001), "city-3", "city-3", "city-4")],
        [recorded],
        [corrected(PartialDate(9999, 12), "city-2", "city-1", "city-2")],
        [corrected(PartialDate(), None)],
        [corrected(PartialDate(2002, 2), None, "city-5"), ActivityRetracted(key=key)],
        [corrected(PartialDate(9999), "city-6", "city-6")],
        [ActivityRetracted(key=key)],
    ]:
        appends.append((f"activity:{key}", events))
    commitment = "commitment-odd"
    by = dict(key=commitment, by="city-1", collaborators=[ESCAPED])

    def correction(on: PartialDate) -> CommitmentCorrected:
        return CommitmentCorrected(
            **by, on=on, statement="x", focus_areas=[], corrected_fields=["statement"]
        )

    announced = CommitmentAnnounced(
        **by, by_title=ESCAPED, on=PartialDate(9999, 12, 31), statement=ESCAPED, focus_areas=[]
    )
    for events in [
        [correction(PartialDate(2003))],
        [announced],
        [correction(PartialDate()), CommitmentRetracted(key=commitment)],
        [correction(PartialDate(1))],
    ]:
        appends.append((f"commitment:{commitment}", events))
    source = SourceRegistered(key="source-odd", title=ESCAPED, sections=[])
    appends.append(("source:source-odd", [source]))
    return appends


async def test_a_log_the_database_fold_was_not_written_for_is_folded_in_python(
    services: Services,
) -> None:
    """A membership started twice (the rules refuse it, an imported log may hold it): the
    memberships rebuild folds in Python, and gives the live digest."""
    await record(services, seed=5, steps=120)
    started = MembershipStarted(
        membership_id="twice",
        member="city-2",
        network="net-0",
        since=PartialDate(2001),
        notes=[],
    )
    await services.store.append(started.stream, [started])
    await services.store.append(started.stream, [started])
    live = await services.projections.digests()
    rebuilt = await services.projections.rebuild_many(["memberships"])
    assert rebuilt.events > 0
    assert await services.projections.digests() == live


async def test_a_statement_the_database_refuses_leaves_the_fold_to_python(
    services: Services,
) -> None:
    """A NUL in a payload (the API refuses it, a log may hold it): PostgreSQL's json type
    refuses it, the rebuild folds memberships in Python instead; both engines give the live
    digest."""
    await record(services, seed=6, steps=120)
    nul = MembershipStarted(
        membership_id="nul",
        member="city-2",
        network="net-0",
        since=PartialDate(2001),
        notes=["a\x00b"],
    )
    await services.store.append(nul.stream, [nul])
    live = await services.projections.digests()
    rebuilt = await services.projections.rebuild_many(["memberships"])
    if services.engine.dialect.name == "postgresql":
        assert rebuilt.events > 0
    assert await services.projections.digests() == live


async def test_on_sqlite_only_the_copy_of_a_database_fold_holds_the_write_lock(
    services: Services,
) -> None:
    """SQLite has one writer at a time: a fold in the database reads the log and folds it in
    a transaction that takes no write lock (plain BEGIN), and only the copy of its rows into
    the tables runs under BEGIN IMMEDIATE, so live appends wait for the copy alone."""
    if services.engine.dialect.name != "sqlite":
        return  # PostgreSQL's writers do not wait for a rebuild's tables
    await record(services, seed=8, steps=150)
    statements: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(" ".join(statement.split()))

    sync = services.engine.sync_engine
    event.listen(sync, "before_cursor_execute", seen)
    try:
        rebuilt = await services.projections.rebuild_many(["memberships"])
    finally:
        event.remove(sync, "before_cursor_execute", seen)
    assert rebuilt.events == 0  # folded in the database
    began, folding = "", []
    for statement in statements:
        if statement.startswith("BEGIN"):
            began = statement
        elif "json_extract" in statement or "OVER" in statement.upper():
            folding.append((began, statement[:60]))
    assert folding
    assert all(begin == "BEGIN" for begin, _ in folding), folding
    copies = [s for s in statements if "SELECT * FROM temp." in s]
    assert len(copies) == 1
    before_copy = [s for s in statements[: statements.index(copies[0])] if s.startswith("BEGIN")]
    assert before_copy[-1] == "BEGIN IMMEDIATE"
