"""`coop history` of a withdrawn fact names the retraction and its reason; `coop --version`."""

from __future__ import annotations

import pytest

from domain.events import MembershipRetracted
from events.model import Metadata
from service.cli import main
from service.services import Services
from tests.audit.conftest import Coop


async def test_history_names_a_retraction_and_its_reason(
    sampled: Services, database_url: str, coop: Coop
) -> None:
    withdrawn = MembershipRetracted(membership_id="city-2@c40#1", member="city-2", network="c40")
    reason = Metadata(actor="auditor-test", reason="no such membership was ever agreed")
    written = await sampled.store.append("membership:city-2@c40", [withdrawn], metadata=reason)
    ran = await coop(database_url, "history", "city-2@c40#1")
    assert ran.code == 0, ran.err
    assert (
        f"retracted at position {written.last_position} (MembershipRetracted);"
        " reason: no such membership was ever agreed"
    ) in ran.out


def test_version_is_the_installed_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("coop ")
    assert out.strip() != "coop unknown (not installed)"
