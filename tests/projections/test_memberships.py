"""Memberships folded into bitemporal rows: as of a day, as the record stood, and uncertain."""

from __future__ import annotations

from datetime import date

from domain.events import (
    MembershipCorrected,
    MembershipEnded,
    MembershipStarted,
    PartnerRegistered,
)
from events.dates import PartialDate
from events.model import Metadata, SourceRef
from projections.queries.basis import Basis
from projections.queries.history import changes_between, changes_recorded, history
from projections.queries.memberships import members_of, memberships_of
from service.services import Services

D = PartialDate.parse
SOURCE = Metadata(actor="editor", source=SourceRef("doc", "ICAP"), reason="first entry")


async def record_tokyo_in_icap(services: Services) -> None:
    store = services.store
    await store.append("partner:tokyo", [PartnerRegistered(key="tokyo", name="Tokyo", kind="city")])
    start = MembershipStarted(
        membership_id="tokyo@icap#1",
        member="tokyo",
        network="icap",
        since=D("2009-05"),
        notes=["first from Asia"],
    )
    await store.append("membership:tokyo@icap", [start], metadata=SOURCE)


async def test_read_your_writes_and_as_of(services: Services) -> None:
    await record_tokyo_in_icap(services)
    async with services.engine.connect() as connection:
        now = await members_of(connection, ["icap"])
        before = await members_of(connection, ["icap"], Basis(as_of=date(2009, 4, 30)))
        during = await members_of(connection, ["icap"], Basis(as_of=date(2009, 5, 10)))
        after = await memberships_of(connection, ["tokyo"], Basis(as_of=date(2010, 1, 1)))
    assert [(r["member"], r["valid_from"], r["notes"]) for r in now["icap"]] == [
        ("tokyo", "2009-05", ["first from Asia"])
    ]
    assert before == {}
    # Joined "May 2009": on 10 May the record cannot tell, and says so.
    assert [r["certain"] for r in during["icap"]] == [False]
    assert [r["certain"] for r in after["tokyo"]] == [True]


async def test_known_at_shows_what_the_record_said_before_a_correction(services: Services) -> None:
    await record_tokyo_in_icap(services)
    store = services.store
    fix = MembershipCorrected(
        membership_id="tokyo@icap#1",
        member="tokyo",
        network="icap",
        since=D("2008"),
        until=None,
        notes=["first from Asia"],
        corrected_fields=["since"],
    )
    corrected = await store.append("membership:tokyo@icap", [fix])
    async with services.engine.connect() as connection:
        then = await members_of(connection, ["icap"], Basis(date(2008, 6, 1), position=2))
        now = await members_of(connection, ["icap"], Basis(date(2008, 6, 1)))
        told = await history(connection, "tokyo@icap#1")
        recorded = await changes_recorded(connection, 2, corrected.last_position)
    assert then == {}
    assert [(r["valid_from"], r["certain"]) for r in now["icap"]] == [("2008", False)]
    assert [(v["valid_from"], v["record_to"]) for v in told] == [("2009-05", 3), ("2008", None)]
    assert told[0]["made_by"].actor == "editor"
    assert told[0]["made_by"].source == {"document": "doc", "section": "ICAP"}
    assert [(c.kind, c.change, c.key) for c in recorded] == [
        ("membership", "corrected", "tokyo@icap#1")
    ]


async def test_an_ended_membership_and_changes_between_days(services: Services) -> None:
    await record_tokyo_in_icap(services)
    end = MembershipEnded(
        membership_id="tokyo@icap#1", member="tokyo", network="icap", until=D("2020-12-31")
    )
    await services.store.append("membership:tokyo@icap", [end])
    async with services.engine.connect() as connection:
        in_2021 = await members_of(connection, ["icap"], Basis(date(2021, 1, 1)))
        in_2020 = await members_of(connection, ["icap"], Basis(date(2020, 12, 31)))
        changes = await changes_between(connection, date(2009, 1, 1), date(2021, 1, 1))
    assert in_2021 == {}
    assert [r["certain"] for r in in_2020["icap"]] == [True]
    kinds = [(c.kind, c.change) for c in changes]
    assert ("membership", "started") in kinds
    assert ("membership", "ended") in kinds


async def test_unknown_start_is_never_certain(services: Services) -> None:
    start = MembershipStarted(
        membership_id="london@c40#1", member="london", network="c40", since=PartialDate(), notes=[]
    )
    await services.store.append("membership:london@c40", [start])
    async with services.engine.connect() as connection:
        answer = await members_of(connection, ["c40"], Basis(date(2020, 1, 1)))
    assert [(r["member"], r["valid_from"], r["certain"]) for r in answer["c40"]] == [
        ("london", None, False)
    ]
