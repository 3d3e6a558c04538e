"""`coop projections status` and `coop projections rebuild [NAME]`."""

from __future__ import annotations

from service.services import Services
from tests.audit.conftest import HEAD, Coop


async def test_status_lists_each_checkpoint_and_its_lag(sampled_url: str, coop: Coop) -> None:
    ran = await coop(sampled_url, "projections", "status")
    assert ran.code == 0, ran.err
    rows = [line.split() for line in ran.out.splitlines()[1:-1]]
    assert [row[0] for row in rows] == sorted(row[0] for row in rows)
    assert {(row[1], row[2]) for row in rows} == {(str(HEAD), "0")}
    assert len(rows) == 7
    assert ran.out.splitlines()[-1].startswith(f"log head: position {HEAD}, hash ")


async def test_rebuild_shows_a_rate_and_keeps_every_digest(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    before = await sampled.projections.digests()
    one = await coop(database_url, "projections", "rebuild", "memberships")
    assert one.code == 0, one.err
    assert f"rebuild memberships: {HEAD}/{HEAD} events, " in one.err
    assert one.err.rstrip().endswith("events/s")
    every = await coop(database_url, "projections", "rebuild")
    assert every.code == 0
    assert every.err.count("events/s") == 7
    assert f"up to position {HEAD}" in every.out
    assert await sampled.projections.digests() == before
    unknown = await coop(database_url, "projections", "rebuild", "nope")
    assert unknown.code == 2
    assert "no projection named 'nope'" in unknown.err
