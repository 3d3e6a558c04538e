"""The read tables by name, for queries that work the same on any of them."""

from projections.models.activities import activities, activity_participants
from projections.models.commitments import commitments
from projections.models.memberships import memberships
from projections.models.partners import partners
from projections.models.programs import program_partners, programs
from projections.models.roles import bodies, roles
from projections.models.sources import sources

__all__ = [
    "activities",
    "activity_participants",
    "bodies",
    "commitments",
    "memberships",
    "partners",
    "program_partners",
    "programs",
    "roles",
    "sources",
]
