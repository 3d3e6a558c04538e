"""A small mixed history touching every read model, for framework tests."""

from __future__ import annotations

from domain.events import (
    ActivityCorrected,
    ActivityRecorded,
    BodyRegistered,
    BodySizeRecorded,
    CommitmentAnnounced,
    MembershipEnded,
    MembershipStarted,
    PartnerJoinedProgram,
    PartnerRegistered,
    PartnerUpdated,
    ProgramLaunched,
    RoleAssigned,
    SourceRegistered,
)
from events.dates import PartialDate
from events.store import EventStore

D = PartialDate.parse


async def record_sample(store: EventStore, cities: int = 6) -> None:
    await store.append("source:doc", [SourceRegistered(key="doc", title="Doc", sections=["A"])])
    await store.append("partner:c40", [PartnerRegistered(key="c40", name="C40", kind="network")])
    for n in range(cities):
        city = f"city-{n}"
        await store.append(
            f"partner:{city}",
            [PartnerRegistered(key=city, name=f"City {n}", kind="city", country="X")],
        )
        since = D(f"{2000 + n}") if n % 2 else D(f"{2000 + n}-0{1 + n % 9}")
        started = MembershipStarted(
            membership_id=f"{city}@c40#1", member=city, network="c40", since=since, notes=[f"n{n}"]
        )
        await store.append(f"membership:{city}@c40", [started])
        if n % 3 == 0:
            ended = MembershipEnded(
                membership_id=f"{city}@c40#1", member=city, network="c40", until=D(f"{2010 + n}")
            )
            await store.append(f"membership:{city}@c40", [ended])
    await store.append(
        "partner:c40",
        [
            PartnerUpdated(
                key="c40",
                name="C40 Cities",
                kind="network",
                effective=D("2012"),
                changed_fields=["name"],
            )
        ],
    )
    await store.append(
        "body:c40.sc", [BodyRegistered(network="c40", body="sc", name="Steering Committee")]
    )
    await store.append(
        "body:c40.sc", [BodySizeRecorded(network="c40", body="sc", size=16, as_of=D("2020-11"))]
    )
    await store.append(
        "role:city-1@c40",
        [
            RoleAssigned(
                role_id="city-1@c40#role-1",
                holder="city-1",
                network="c40",
                body="sc",
                position="vice chair",
                since=PartialDate(),
                held_as_of=D("2020-12"),
                notes=[],
            )
        ],
    )
    await store.append(
        "program:air",
        [
            ProgramLaunched(
                key="air",
                name="Air",
                field="air_quality",
                kind="researcher_exchange",
                topics=["PM2.5"],
                lead="city-0",
                since=PartialDate(),
            )
        ],
    )
    await store.append(
        "program:air",
        [
            PartnerJoinedProgram(
                participation_id="air/city-2#1", program="air", partner="city-2", since=D("2015")
            )
        ],
    )
    meeting = dict(
        key="meet",
        name="Meeting",
        kind="committee_meeting",
        on=D("2020-12"),
        mode="online",
        organiser="c40",
        participants=["city-1"],
        representatives=[],
        network="c40",
    )
    await store.append("activity:meet", [ActivityRecorded(**meeting)])  # type: ignore[arg-type]
    fixed = {**meeting, "participants": ["city-1", "city-2"], "corrected_fields": ["participants"]}
    await store.append("activity:meet", [ActivityCorrected(**fixed)])  # type: ignore[arg-type]
    await store.append(
        "commitment:pledge",
        [
            CommitmentAnnounced(
                key="pledge",
                by="city-1",
                on=D("2020-12"),
                activity="meet",
                statement="Act",
                focus_areas=["buildings"],
                collaborators=["c40"],
            )
        ],
    )
