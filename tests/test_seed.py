"""The seed document loaded through the command path, on each engine, idempotently."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.handling import Commands
from events.model import RecordedEvent
from service.migrate import upgrade
from service.seeding import load_seed, seed_commands
from service.services import Services, build_services
from service.settings import Settings
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database

DOCUMENT = "tmg-international-cooperation"


async def seeded_log(url: str) -> list[RecordedEvent]:
    services = build_services(Settings(database_url=url))
    try:
        await upgrade(services.engine)
        await load_seed(Commands(services.store))
        return await services.store.read_all(limit=10_000)
    finally:
        await services.close()


@pytest.fixture
async def services(database_url: str) -> AsyncIterator[Services]:
    services = build_services(Settings(database_url=database_url))
    await upgrade(services.engine)
    try:
        yield services
    finally:
        await services.close()


@pytest.fixture
async def log(services: Services) -> list[RecordedEvent]:
    report = await load_seed(Commands(services.store))
    assert (report.written, report.already_present) == (len(seed_commands()), 0)
    return await services.store.read_all(limit=10_000)


def find(log: list[RecordedEvent], type_: str, **data: Any) -> RecordedEvent:
    found = [e for e in log if e.type == type_ and data.items() <= e.data.items()]
    assert len(found) == 1, f"expected one {type_} with {data}, found {len(found)}"
    return found[0]


async def test_loading_twice_writes_nothing_new(
    services: Services, log: list[RecordedEvent]
) -> None:
    again = await load_seed(Commands(services.store))
    assert (again.written, again.already_present) == (0, len(seed_commands()))
    assert (await services.store.head()).position == log[-1].position


async def test_every_event_names_the_seed_actor_its_source_and_its_key(
    log: list[RecordedEvent],
) -> None:
    sections = set(find(log, "SourceRegistered", key=DOCUMENT).data["sections"])
    for event in log:
        assert event.metadata["actor"] == "seed"
        assert event.metadata["source"]["document"] == DOCUMENT
        assert event.metadata["source"]["section"] in sections
        assert event.metadata["idempotency_key"].startswith("seed:tmg:")


def test_seed_commands_keep_their_order_and_keys() -> None:
    keys = [command.idempotency_key for command in seed_commands()]
    assert keys[0] == "seed:tmg:register-source"
    assert len(set(keys)) == len(keys)


async def test_memberships_at_the_precision_the_document_gives(log: list[RecordedEvent]) -> None:
    icap = find(log, "MembershipStarted", member="tokyo", network="icap")
    assert icap.data["since"] == "2009-05"
    assert icap.data["notes"] == [
        "the only single city government entity",
        "the first member from the Asian region",
    ]
    assert icap.metadata["source"]["section"] == "Activities through ICAP"
    assert find(log, "MembershipStarted", member="tokyo", network="c40").data["since"] == "2006"
    for city in ("london", "new-york", "paris", "los-angeles"):
        assert find(log, "MembershipStarted", member=city, network="c40").data["since"] == "unknown"


async def test_the_steering_committee_and_the_roles(log: list[RecordedEvent]) -> None:
    size = find(log, "BodySizeRecorded", network="c40", body="steering-committee")
    assert (size.data["size"], size.data["as_of"]) == (16, "2020-11")
    vice_chair = find(log, "RoleAssigned", holder="tokyo", position="vice chair")
    assert vice_chair.data["holder_title"] == "Governor of Tokyo"
    assert vice_chair.data["held_as_of"] == "2020-12"
    seat = find(log, "RoleAssigned", holder="tokyo", body="steering-committee")
    assert seat.data["held_as_of"] == "2020-11"


async def test_the_announcement_and_its_meeting(log: list[RecordedEvent]) -> None:
    commitment = find(log, "CommitmentAnnounced", by="tokyo")
    assert commitment.data["focus_areas"] == ["sustainable buildings", "green hydrogen"]
    assert commitment.data["collaborators"] == ["businesses", "NGOs", "C40 member cities"]
    meeting = find(log, "ActivityRecorded", key=commitment.data["activity"])
    assert (meeting.data["on"], meeting.data["kind"]) == ("2020-12", "committee_meeting")


async def test_programs_and_activities_of_the_document(log: list[RecordedEvent]) -> None:
    topics = {e.data["key"]: e.data["topics"] for e in log if e.type == "ProgramLaunched"}
    assert topics["beijing-air-quality-technology-exchange"] == ["PM2.5", "VOCs"]
    assert "cap-and-trade" in topics["icap-cap-and-trade-knowledge-sharing"]
    names = {e.data["name"] for e in log if e.type == "ProgramLaunched"}
    assert {"Private Building Efficiency", "Waste to Resources"} <= names
    joined = {
        (e.data["program"], e.data["partner"]) for e in log if e.type == "PartnerJoinedProgram"
    }
    assert ("waste-management-bilateral-programs", "yangon") in joined
    assert ("c40-waste-to-resources", "tokyo") in joined
    workshop = find(log, "ActivityRecorded", key="online-international-waste-management-workshop")
    assert (workshop.data["mode"], workshop.data["on"]) == ("online", "unknown")
    event = find(log, "ActivityRecorded", key="c40-event-tokyo-paris-los-angeles")
    assert event.data["participants"] == ["tokyo", "paris", "los-angeles"]
    assert find(log, "ActivityRecorded", key="icap-annual-meeting").data["network"] == "icap"


def comparable(log: list[RecordedEvent]) -> list[tuple[Any, ...]]:
    """The log apart from what each engine makes anew: recorded times, event ids, hashes."""
    return [
        (e.position, e.stream_id, e.stream_version, e.type, e.schema_version, e.data, e.metadata)
        for e in log
    ]


async def test_the_seed_gives_the_same_log_on_both_engines(tmp_path: Path) -> None:
    # Without PostgreSQL configured, two SQLite loads still show the seed is deterministic.
    first = await seeded_log(f"sqlite:///{tmp_path / 'first.db'}")
    if POSTGRES_URL is None:
        second = await seeded_log(f"sqlite:///{tmp_path / 'second.db'}")
    else:
        url = await create_postgres_database()
        try:
            second = await seeded_log(url)
        finally:
            await drop_postgres_database(url)
    assert comparable(first) == comparable(second)
