"""The auditor's view: the log head and a verification of the hash chain over a range."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from events.verify import verify_chain
from schema.context import Info, check_may_audit
from schema.errors import bad_input


@strawberry.type
class LogHead:
    position: int
    hash: str
    recorded_at: datetime | None


@strawberry.type
class ChainVerification:
    ok: bool
    checked: int
    first_bad_position: int | None
    message: str


@strawberry.type
class Audit:
    @strawberry.field(description="The last position of the log, its hash and record time.")
    async def head(self, info: Info) -> LogHead:
        head = await info.context.services.store.head()
        return LogHead(position=head.position, hash=head.hash, recorded_at=head.recorded_at)

    @strawberry.field(
        description="Recompute the hash chain from position `from` (1) to `to` (the head)."
    )
    async def verify(
        self,
        info: Info,
        from_: Annotated[int, strawberry.argument(name="from")] = 1,
        to: int | None = None,
    ) -> ChainVerification:
        if from_ < 1 or (to is not None and to < from_):
            raise bad_input(
                f"positions run from 1 and `to` must not be before `from`; got {from_}..{to}"
            )
        report = await verify_chain(info.context.services.store, after=from_ - 1, until=to)
        return ChainVerification(
            ok=report.ok,
            checked=report.checked,
            first_bad_position=report.first_bad_position,
            message=report.message,
        )


@strawberry.type
class AuditQuery:
    @strawberry.field(description="For the auditor and admin roles.")
    def audit(self, info: Info) -> Audit:
        check_may_audit(info, "the audit view")
        return Audit()
