"""A seeded random history touching every event type and every fold branch, for the tests
that fold one history several ways: corrections, retractions, dated and undated updates,
changes dated before the start, closes by program and by activity, several events an append,
text that JSON escapes."""

from __future__ import annotations

import random

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
    PartnerJoinedProgram,
    PartnerLeftProgram,
    PartnerRegistered,
    PartnerRetracted,
    PartnerUpdated,
    ProgramConcluded,
    ProgramCorrected,
    ProgramLaunched,
    ProgramRetracted,
    RoleAssigned,
    RoleCorrected,
    RoleEnded,
    RoleRetracted,
    SourceRegistered,
)
from events.dates import PartialDate

Append = tuple[str, list[object]]

ESCAPED = 'Tōkyō "quoted", back\\slash, tab\there ✓ </>'
"""Text that JSON escapes, for the text and list fields (it takes nothing from the seed)."""


def some_date(rng: random.Random) -> PartialDate:
    year = rng.randint(1995, 2024)
    shape = rng.random()
    if shape < 0.05:
        return PartialDate()
    if shape < 0.4:
        return PartialDate(year)
    if shape < 0.7:
        return PartialDate(year, rng.randint(1, 12))
    return PartialDate(year, rng.randint(1, 12), rng.randint(1, 28))


def random_history(seed: int, steps: int) -> list[Append]:
    """`steps` appends (some of several events), seeded: the same seed, the same history."""
    rng = random.Random(seed)
    d = lambda: some_date(rng)  # noqa: E731
    cities = [f"city-{n}" for n in range(12)]
    networks = [f"net-{n}" for n in range(3)]
    appends: list[Append] = []
    for key in networks:
        appends.append((f"partner:{key}", [PartnerRegistered(key=key, name=key, kind="network")]))
    for key in cities:
        event = PartnerRegistered(key=key, name=key.title(), kind="city", country="X")
        appends.append((f"partner:{key}", [event]))
    memberships: list[tuple[str, str, str]] = []
    roles: list[tuple[str, str]] = []
    programs: list[str] = []
    joined: list[tuple[str, str, str]] = []
    activities: list[str] = []
    commitments: list[str] = []
    bodies: list[tuple[str, str]] = []
    for step in range(steps):
        pick = rng.random()
        city, network = rng.choice(cities), rng.choice(networks)
        if pick < 0.22:
            mid = f"{city}@{network}#{step}"
            memberships.append((mid, city, network))
            events: list[object] = [
                MembershipStarted(
                    membership_id=mid, member=city, network=network, since=d(), notes=[str(step)]
                )
            ]
            if rng.random() < 0.2:  # ended in the same append
                events.append(
                    MembershipEnded(membership_id=mid, member=city, network=network, until=d())
                )
            appends.append((f"membership:{city}@{network}", events))
        elif pick < 0.34 and memberships:
            mid, member, net = rng.choice(memberships)
            kind = rng.random()
            event: object
            if kind < 0.5:
                event = MembershipEnded(membership_id=mid, member=member, network=net, until=d())
            elif kind < 0.85:
                event = MembershipCorrected(
                    membership_id=mid,
                    member=member,
                    network=net,
                    since=d(),
                    until=rng.choice([None, d()]),
                    notes=["corrected"],
                    corrected_fields=["since"],
                )
            else:
                event = MembershipRetracted(membership_id=mid, member=member, network=net)
            appends.append((f"membership:{member}@{net}", [event]))
        elif pick < 0.42:
            effective = rng.choice([None, d(), PartialDate(1990)])
            kind = rng.random()
            if kind < 0.6:
                event = PartnerUpdated(
                    key=city,
                    name=f"{city} {step}",
                    kind="city",
                    region=rng.choice([None, "R"]),
                    effective=effective,
                    changed_fields=["name"],
                )
            elif kind < 0.95:
                event = PartnerCorrected(
                    key=city, name=f"{city}!", kind="city", corrected_fields=["name"]
                )
            else:
                event = PartnerRetracted(key=city)
            appends.append((f"partner:{city}", [event]))
        elif pick < 0.5:
            body = rng.choice(["sc", "board"])
            if (network, body) not in bodies:
                bodies.append((network, body))
                event = BodyRegistered(network=network, body=body, name=body.upper())
            else:
                event = BodySizeRecorded(network=network, body=body, size=step % 30, as_of=d())
            appends.append((f"body:{network}.{body}", [event]))
        elif pick < 0.6:
            if roles and rng.random() < 0.5:
                rid, holder = rng.choice(roles)
                kind = rng.random()
                if kind < 0.5:
                    event = RoleEnded(
                        role_id=rid, holder=holder, network=network, position="chair", until=d()
                    )
                elif kind < 0.9:
                    event = RoleCorrected(
                        role_id=rid,
                        holder=holder,
                        network=network,
                        position="co-chair",
                        since=d(),
                        held_as_of=rng.choice([None, d()]),
                        notes=[],
                        corrected_fields=["position"],
                    )
                else:
                    event = RoleRetracted(role_id=rid, holder=holder, network=network)
            else:
                rid = f"{city}@{network}#role-{step}"
                roles.append((rid, city))
                event = RoleAssigned(
                    role_id=rid,
                    holder=city,
                    network=network,
                    body=rng.choice([None, "sc"]),
                    position="chair",
                    since=d(),
                    notes=["n"],
                )
            appends.append((f"role:{city}@{network}", [event]))
        elif pick < 0.75:
            if programs and rng.random() < 0.7:
                program = rng.choice(programs)
                kind = rng.random()
                if kind < 0.45:
                    pid = f"{program}/{city}#{step}"
                    joined.append((pid, program, city))
                    event = PartnerJoinedProgram(
                        participation_id=pid, program=program, partner=city, since=d()
                    )
                elif kind < 0.65 and joined:
                    pid, program, partner = rng.choice(joined)
                    event = PartnerLeftProgram(
                        participation_id=pid, program=program, partner=partner, until=d()
                    )
                elif kind < 0.8:
                    event = ProgramCorrected(
                        key=program,
                        name=f"{program}!",
                        field="climate_action",
                        kind="bilateral_program",
                        topics=["a", "b"],
                        lead=city,
                        since=d(),
                        until=rng.choice([None, d()]),
                        corrected_fields=["name"],
                    )
                elif kind < 0.93:
                    event = ProgramConcluded(key=program, until=d())
                else:
                    event = ProgramRetracted(key=program)
                appends.append((f"program:{program}", [event]))
            else:
                program = f"program-{step}"
                programs.append(program)
                event = ProgramLaunched(
                    key=program,
                    name=program,
                    field="climate_action",
                    kind="network_initiative",
                    topics=["t"],
                    lead=city,
                    network=rng.choice([None, network]),
                    since=d(),
                )
                appends.append((f"program:{program}", [event]))
        elif pick < 0.88:
            if activities and rng.random() < 0.4:
                key = rng.choice(activities)
                if rng.random() < 0.8:
                    event = ActivityCorrected(
                        key=key,
                        name=f"{key}!",
                        kind="annual_meeting",
                        on=d(),
                        organiser=rng.choice([None, city]),
                        participants=rng.sample(cities, 2),
                        representatives=["Mayor", ESCAPED],
                        description=None if step % 2 else ESCAPED,
                        corrected_fields=["participants"],
                    )
                else:
                    event = ActivityRetracted(key=key)
                appends.append((f"activity:{key}", [event]))
            else:
                key = f"activity-{step}"
                activities.append(key)
                recorded = ActivityRecorded(
                    key=key,
                    name=key,
                    kind="workshop",
                    on=d(),
                    mode="online" if step % 2 else None,
                    field="climate_action",
                    organiser=city,
                    participants=rng.sample(cities, 3),
                    representatives=[ESCAPED] if step % 3 else [],
                    network=network,
                    body="sc" if step % 5 else None,
                    program=programs[-1] if programs else None,
                    description=f"{ESCAPED} {step}",
                )
                appends.append((f"activity:{key}", [recorded]))
        elif pick < 0.97:
            if commitments and rng.random() < 0.4:
                key = rng.choice(commitments)
                if rng.random() < 0.8:
                    event = CommitmentCorrected(
                        key=key,
                        by=city,
                        on=d(),
                        by_title=ESCAPED if step % 2 else None,
                        statement=f"again {ESCAPED}",
                        focus_areas=["x"],
                        collaborators=[],
                        corrected_fields=["statement"],
                    )
                else:
                    event = CommitmentRetracted(key=key)
            else:
                key = f"commitment-{step}"
                commitments.append(key)
                event = CommitmentAnnounced(
                    key=key,
                    by=city,
                    on=d(),
                    activity=rng.choice([None, *activities[-3:]]),
                    by_title="Mayor" if step % 3 else None,
                    statement="we will",
                    focus_areas=["energy", ESCAPED],
                    collaborators=[network],
                )
            appends.append((f"commitment:{key}", [event]))
        else:
            key = f"source-{step}"
            event = SourceRegistered(
                key=key,
                title=f"{key} {ESCAPED}",
                publisher=ESCAPED if step % 2 else None,
                url=f"https://example.org/{key}?a=1&b=2",
                sections=["1", "2", ESCAPED],
            )
            appends.append((f"source:{key}", [event]))
    return [(events[0].stream, events) for _, events in appends]  # type: ignore[attr-defined]
