"""The store's contract: append and read, on every engine."""

from __future__ import annotations

import uuid

import pytest

from events.chain import canonical_json
from events.dates import PartialDate
from events.errors import ConcurrencyConflict, IdempotencyKeyReused, InvalidAppend
from events.model import Expect, Metadata, NewEvent, SourceRef
from events.store import EventStore
from events.verify import verify_chain
from tests.store.kinds import ThingDated, ThingNamed

DEEP: list[object] = []
for _ in range(5000):
    DEEP = [DEEP]


def named(name: str, *tags: str) -> NewEvent:
    return NewEvent("ThingNamed", {"name": name, "tags": list(tags)})


async def test_append_assigns_positions_versions_and_chains_hashes(store: EventStore) -> None:
    first = await store.append("thing:a", [named("a1"), named("a2")], Expect.NO_STREAM)
    second = await store.append("thing:b", [named("b1")], Expect.NO_STREAM)

    assert (first.first_position, first.last_position, first.stream_version) == (1, 2, 2)
    assert (second.first_position, second.stream_version) == (3, 1)
    log = await store.read_all()
    assert [e.position for e in log] == [1, 2, 3]
    assert [e.prev_hash for e in log[1:]] == [e.hash for e in log[:-1]]
    assert len({e.hash for e in log}) == 3
    head = await store.head()
    assert (head.position, head.hash) == (3, log[-1].hash)


async def test_domain_objects_and_metadata_round_trip(store: EventStore) -> None:
    meta = Metadata(actor="editor-1", reason="typo", source=SourceRef("doc", "ICAP"))
    await store.append("thing:a", [ThingDated("a", None), ThingNamed("b", ["x"])], metadata=meta)

    first, second = await store.read_stream("thing:a")
    assert first.data == {"name": "a", "since": None}
    assert second.type == "ThingNamed"
    assert second.metadata["actor"] == "editor-1"
    assert second.metadata["source"] == {"document": "doc", "section": "ICAP"}
    assert store.types.decode(second) == ThingNamed("b", ["x"])
    assert first.recorded_at.tzinfo is not None


async def test_the_stored_text_is_one_canonical_form(store: EventStore) -> None:
    """Every field spelled (defaults too), keys sorted, dates as text, whatever the input."""
    given = uuid.uuid4()
    ways = [
        ThingDated("a"),
        NewEvent("ThingDated", {"name": "a"}),
        NewEvent("ThingDated", {"since": None, "name": "a"}),
    ]
    for n, way in enumerate(ways):
        await store.append(f"thing:{n}", [way])
    await store.append("thing:d", [ThingDated("d", PartialDate(2009, 5))])

    log = await store.read_all()
    texts = {canonical_json(e.data) for e in log[:3]}
    assert texts == {'{"name":"a","since":null}'}
    assert canonical_json(log[3].data) == '{"name":"d","since":"2009-05"}'
    # A retry that leaves the default out is the same request, not a different one.
    await store.append("thing:g", [NewEvent("ThingDated", {"name": "g", "since": None}, given)])
    again = await store.append("thing:g", [NewEvent("ThingDated", {"name": "g"}, given)])
    assert again.replayed


async def test_a_given_event_id_is_kept_as_the_uuid_it_names(store: EventStore) -> None:
    given = uuid.uuid4()
    shouting = NewEvent("ThingNamed", {"name": "a", "tags": []}, str(given).upper())  # type: ignore[arg-type]
    written = await store.append("thing:a", [shouting])

    assert written.events[0].event_id == given
    assert (await verify_chain(store)).ok
    with pytest.raises(InvalidAppend, match="is not a UUID"):
        await store.append("thing:b", [NewEvent("ThingNamed", {"name": "b", "tags": []}, "x")])  # type: ignore[arg-type]


async def test_expected_version_mismatch_names_stream_and_versions(store: EventStore) -> None:
    await store.append("thing:a", [named("a")], Expect.NO_STREAM)

    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append("thing:a", [named("b"), named("c")], 0)
    assert "thing:a" in str(caught.value)
    assert "version 0" in str(caught.value)
    assert "version 1" in str(caught.value)
    with pytest.raises(ConcurrencyConflict, match="no stream yet"):
        await store.append("thing:a", [named("b")], Expect.NO_STREAM)
    with pytest.raises(ConcurrencyConflict, match="but it is at no stream yet"):
        await store.append("thing:new", [named("b")], 1)
    assert (await store.head()).position == 1


async def test_exact_and_any_expected_versions_append(store: EventStore) -> None:
    await store.append("thing:a", [named("a")], Expect.NO_STREAM)
    await store.append("thing:a", [named("b")], 1)
    result = await store.append("thing:a", [named("c")], Expect.ANY)
    assert result.stream_version == 3


async def test_also_expected_guards_other_streams(store: EventStore) -> None:
    await store.append("thing:a", [named("a")])
    await store.append("thing:b", [named("b")])
    with pytest.raises(ConcurrencyConflict, match="thing:b"):
        await store.append("thing:a", [named("c")], 1, also_expected={"thing:b": Expect.NO_STREAM})
    ok = await store.append("thing:a", [named("c")], 1, also_expected={"thing:b": 1})
    assert ok.stream_version == 2


async def test_idempotency_key_returns_first_result_and_writes_nothing(store: EventStore) -> None:
    meta = Metadata(idempotency_key="req-1")
    first = await store.append("thing:a", [named("a")], Expect.NO_STREAM, meta)
    again = await store.append("thing:a", [named("a")], Expect.NO_STREAM, meta)

    assert again.replayed
    assert not first.replayed
    assert again.first_position == first.first_position
    assert again.events[0].event_id == first.events[0].event_id
    assert (await store.head()).position == 1


async def test_idempotency_key_with_other_content_is_refused(store: EventStore) -> None:
    meta = Metadata(idempotency_key="req-1")
    await store.append("thing:a", [named("a")], metadata=meta)
    with pytest.raises(IdempotencyKeyReused, match="req-1"):
        await store.append("thing:a", [named("changed")], metadata=meta)
    assert (await store.head()).position == 1


async def test_same_event_ids_are_a_retry(store: EventStore) -> None:
    ids = [uuid.uuid4(), uuid.uuid4()]
    batch = [
        NewEvent("ThingNamed", {"name": n, "tags": []}, i) for n, i in zip("ab", ids, strict=True)
    ]
    first = await store.append("thing:a", batch)
    again = await store.append("thing:a", batch)
    assert again.replayed
    assert [e.position for e in again.events] == [e.position for e in first.events]
    assert [e.event_id for e in await store.read_all()] == ids

    altered = [NewEvent("ThingNamed", {"name": "z", "tags": []}, ids[0])]
    with pytest.raises(IdempotencyKeyReused, match=str(ids[0])):
        await store.append("thing:a", altered)
    assert (await store.head()).position == 2


@pytest.mark.parametrize(
    ("stream", "batch", "message"),
    [
        ("thing:a", [], "batch is empty"),
        ("Thing A", [named("a")], "stream id 'Thing A' is not valid"),
        ("", [named("a")], "stream id '' is not valid"),
        ("thing:a", [NewEvent("NoSuchThing", {})], "unknown event type 'NoSuchThing'"),
        ("thing:a", [NewEvent("ThingNamed", {"name": "a"})], "ThingNamed payload is invalid"),
        ("thing:a", [NewEvent("ThingNamed", {"name": 3, "tags": []})], "Expected `str`"),
        ("thing:a", [NewEvent("ThingNamed", {"name": "a", "tags": [], "x": 1})], "no field"),
        ("thing:a", [NewEvent("ThingDated", {"name": "a", "since": "May 2009"})], "not a date"),
        ("thing:a", [named("a" * 5000)], "the limit is 4096"),
        ("thing:a", [named("a"), object()], "not a registered event type"),
        # A dataclass does not check its fields' types; the store does.
        ("thing:a", [ThingNamed(3, [])], "Expected `str`"),  # type: ignore[arg-type]
        ("thing:a", [ThingDated("a", 2009)], "2009 is not a date"),  # type: ignore[arg-type]
        ("thing:a", [ThingNamed("a", [object()])], "cannot encode object"),  # type: ignore[list-item]
        # Values of other types are refused, not turned into text.
        ("thing:a", [NewEvent("ThingNamed", {"name": b"a", "tags": []})], "Expected `str`"),
        ("thing:a", [NewEvent("ThingNamed", {"name": uuid.uuid4(), "tags": []})], "Expected `str`"),
        ("thing:a", [NewEvent("ThingDated", {"name": "a", "since": float("nan")})], "not a date"),
        ("thing:a", [NewEvent("ThingNamed", {"name": "a", "tags": DEEP})], "Expected"),
        ("thing:a", [ThingNamed("a", DEEP)], "recursion"),
        ("thing:a", [NewEvent("ThingNamed", {"name": "a", "tags": [], 1: 2})], "no field"),
    ],
)
async def test_bad_input_is_refused_and_writes_nothing(
    store: EventStore, stream: str, batch: list[NewEvent], message: str
) -> None:
    await store.append("thing:ok", [named("ok")])
    with pytest.raises(InvalidAppend, match=message):
        await store.append(stream, batch)
    assert (await store.head()).position == 1


async def test_a_failing_batch_writes_none_of_its_events(store: EventStore) -> None:
    given = uuid.uuid4()
    await store.append("thing:b", [NewEvent("ThingNamed", {"name": "b", "tags": []}, given)])
    clash = NewEvent("ThingNamed", {"name": "c", "tags": []}, given)
    # The second event reuses an id already in the log under another stream.
    with pytest.raises(IdempotencyKeyReused):
        await store.append("thing:a", [named("a"), clash])
    assert await store.read_stream("thing:a") == []


async def test_read_all_filters_and_pages(store: EventStore) -> None:
    for n in range(5):
        await store.append(f"thing:{n % 2}", [named(str(n))])
    await store.append("thing:d", [ThingDated("d", None)])

    assert [e.position for e in await store.read_all(after=2, limit=2)] == [3, 4]
    assert [e.position for e in await store.read_all(streams=["thing:1"])] == [2, 4]
    assert [e.type for e in await store.read_all(types=["ThingDated"])] == ["ThingDated"]
    assert [e.position for e in await store.read_all(after=1, until=3)] == [2, 3]
    paged = [e.position async for e in store.iter_all(page=2)]
    assert paged == [1, 2, 3, 4, 5, 6]


async def test_read_stream_between_versions(store: EventStore) -> None:
    await store.append("thing:a", [named(str(n)) for n in range(5)])
    window = await store.read_stream("thing:a", from_version=2, to_version=4)
    assert [e.stream_version for e in window] == [2, 3, 4]
    assert await store.stream_version("thing:a") == 5
    assert await store.stream_version("thing:none") is None


async def test_recorded_time_maps_to_position(store: EventStore) -> None:
    await store.append("thing:a", [named("a")])
    second = await store.append("thing:a", [named("b")])
    moment = second.events[0].recorded_at
    assert await store.position_at(moment) == 2
    first_time = (await store.read_all())[0].recorded_at
    assert first_time <= moment
