"""The built-in read models: one projector per model, each writing only its own tables."""

from __future__ import annotations

from projections.framework import Projector
from projections.models.activities import ActivitiesProjector
from projections.models.commitments import CommitmentsProjector
from projections.models.memberships import MembershipsProjector
from projections.models.partners import PartnersProjector
from projections.models.programs import ProgramsProjector
from projections.models.roles import RolesProjector
from projections.models.sources import SourcesProjector


def built_in_projectors() -> list[Projector]:
    return [
        PartnersProjector(),
        MembershipsProjector(),
        RolesProjector(),
        ProgramsProjector(),
        ActivitiesProjector(),
        CommitmentsProjector(),
        SourcesProjector(),
    ]
