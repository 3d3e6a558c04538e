"""Partners and sources: registration, updates, corrections, and the source every fact cites."""

from __future__ import annotations

import pytest

from domain.commands import CorrectPartner, RegisterPartner, RegisterSource, UpdatePartner
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import PartnerCorrected, PartnerRegistered, PartnerUpdated, SourceRegistered
from events.model import SourceRef
from tests.domain.scenario import SOURCE, city, d, network, when


def register(key: str = "osaka", name: str = "Osaka", kind: str = "city") -> RegisterPartner:
    return RegisterPartner(source=SOURCE, key=key, name=name, kind=kind, country="Japan")


def test_registering_a_partner() -> None:
    assert when([], register(name="  Osaka ")) == [
        PartnerRegistered(key="osaka", name="Osaka", kind="city", country="Japan")
    ]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (register(key="Osaka"), "partner key 'Osaka' is not valid"),
        (register(key="los angeles"), "is not valid"),
        (register(name="  "), "name must not be empty"),
        (register(kind="town"), "kind 'town' is not known; use one of city, network"),
    ],
)
def test_malformed_partners_are_refused(command: RegisterPartner, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as error:
        when([], command)
    assert error.value.code == "BAD_USER_INPUT"


def test_a_key_is_registered_once() -> None:
    with pytest.raises(Conflict, match="partner 'osaka' is already registered"):
        when([city("osaka")], register())


def test_an_update_carries_all_values_after_it_and_what_changed() -> None:
    command = UpdatePartner(
        source=SOURCE, key="c40", name="C40 Cities", effective=d("2015"), clear=["country"]
    )
    given = [PartnerRegistered(key="c40", name="C40", kind="network", country="none")]
    assert when(given, command) == [
        PartnerUpdated(
            key="c40",
            name="C40 Cities",
            kind="network",
            effective=d("2015"),
            changed_fields=["name", "country"],
        )
    ]


def test_a_correction_names_the_partner_and_the_fields() -> None:
    command = CorrectPartner(source=SOURCE, reason="typo", key="c40", name="C40 Cities")
    (corrected,) = when([network("c40")], command)
    assert corrected == PartnerCorrected(
        key="c40", name="C40 Cities", kind="network", corrected_fields=["name"]
    )


def test_updating_an_unknown_partner_is_not_found() -> None:
    with pytest.raises(NotFound, match="partner 'osaka' is not registered"):
        when([], UpdatePartner(source=SOURCE, key="osaka", name="Osaka City", effective=d("2021")))


def test_a_change_must_change_something_and_stay_valid() -> None:
    with pytest.raises(ValidationError, match="nothing would change"):
        when([network("c40")], CorrectPartner(source=SOURCE, key="c40", name="C40"))
    with pytest.raises(ValidationError, match="cannot clear name"):
        when([network("c40")], CorrectPartner(source=SOURCE, key="c40", clear=["name"]))
    with pytest.raises(ValidationError, match="kind 'club'"):
        when([network("c40")], CorrectPartner(source=SOURCE, key="c40", kind="club"))


def test_every_command_cites_a_registered_source_and_one_of_its_sections() -> None:
    with pytest.raises(NotFound, match="source document 'memo' is not registered"):
        when([], RegisterPartner(source=SourceRef("memo"), key="osaka", name="O", kind="city"))
    with pytest.raises(ValidationError, match="source 'doc' has no section 'Annex'"):
        when([], RegisterPartner(source=SourceRef("doc", "Annex"), key="o", name="O", kind="city"))


def test_a_source_may_cite_itself_when_registered() -> None:
    command = RegisterSource(
        source=SourceRef("report", "Intro"), key="report", title="Report", sections=["Intro"]
    )
    assert when([], command) == [SourceRegistered(key="report", title="Report", sections=["Intro"])]
    with pytest.raises(ValidationError, match="no section 'Outro'"):
        when([], RegisterSource(**{**command.__dict__, "source": SourceRef("report", "Outro")}))
    with pytest.raises(Conflict, match="source 'doc' is already registered"):
        when([], RegisterSource(source=SOURCE, key="doc", title="Again"))
