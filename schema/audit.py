"""The auditor's view: the log head, a verification of the hash chain over a range, the
signed checkpoints, and inclusion and consistency proofs from the log's Merkle tree."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from events import checkpoints, tree
from events.verify import verify_chain
from schema.context import Info, check_may_audit
from schema.errors import bad_input
from schema.pagination import (
    Connection,
    Edge,
    PageInfo,
    Paging,
    decode_cursor,
    encode_cursor,
    page_size,
    wants_total,
)


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


@strawberry.type(description="A signed statement of the log's Merkle tree: see README.")
class Checkpoint:
    tree_size: int
    root_hash: str = strawberry.field(description="The Merkle root of the first treeSize events.")
    head_hash: str = strawberry.field(description="Event treeSize's chain hash.")
    timestamp: str = strawberry.field(description="RFC 3339 UTC, as signed.")
    key_id: str = strawberry.field(description="SHA-256 of the raw public key, 16 hex chars.")
    signature: str = strawberry.field(description="Ed25519, base64, over coop-checkpoint/v1.")

    @classmethod
    def of(cls, made: checkpoints.Checkpoint) -> Checkpoint:
        return cls(**made.as_json())


@strawberry.type
class InclusionProof:
    leaf_index: int = strawberry.field(description="0-based: the event's position - 1.")
    tree_size: int
    audit_path: list[str] = strawberry.field(description="RFC 9162 §2.1.3, hex, leaf upward.")


@strawberry.type
class ConsistencyProof:
    first_size: int
    second_size: int
    path: list[str] = strawberry.field(description="RFC 9162 §2.1.4, hex.")


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
                f"positions run from 1 and `to` must not be before `from`; got from {from_}"
                + ("" if to is None else f" to {to}")
            )
        store = info.context.services.store
        head = (await store.head()).position
        # `from` may be the position after the head (an empty range), not one further.
        past = [at for at, end in ((from_, from_ - 1), (to, to)) if end is not None and end > head]
        if past:  # as `coop verify` refuses it: not a range that checked nothing and held
            raise bad_input(f"the log ends at position {head}; it has no {past[0]}")
        report = await verify_chain(store, after=from_ - 1, until=to)
        return ChainVerification(
            ok=report.ok,
            checked=report.checked,
            first_bad_position=report.first_bad_position,
            message=report.message,
        )

    @strawberry.field(description="The checkpoint made last, or null when none was.")
    async def latest_checkpoint(self, info: Info) -> Checkpoint | None:
        async with info.context.services.engine.connect() as connection:
            made = await checkpoints.latest_checkpoint(connection)
        return None if made is None else Checkpoint.of(made)

    @strawberry.field(description="Every stored checkpoint, oldest first.")
    async def checkpoints(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Checkpoint]:
        paging = Paging(first=first, after=after)
        limit = page_size(info, paging)
        cursor = decode_cursor(after)
        if cursor is not None and not cursor.isdigit():
            raise bad_input(f"cursor {after!r} is not one this API gave out")
        async with info.context.services.engine.connect() as connection:
            found = await checkpoints.stored_checkpoints(
                connection, after=int(cursor or 0), limit=limit + 1
            )
            total = await checkpoints.count_checkpoints(connection) if wants_total(info) else 0
        edges = [
            Edge(cursor=encode_cursor(str(number)), node=Checkpoint.of(made))
            for number, made in found[:limit]
        ]
        return Connection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=len(found) > limit,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )

    @strawberry.field(
        description="The audit path of the event at `position` in the tree of the log's first"
        " `treeSize` events."
    )
    async def inclusion_proof(self, info: Info, position: int, tree_size: int) -> InclusionProof:
        try:
            path = await tree.prove_inclusion(info.context.services.engine, position, tree_size)
        except tree.NoSuchProof as problem:
            raise bad_input(str(problem)) from None
        return InclusionProof(
            leaf_index=position - 1, tree_size=tree_size, audit_path=[h.hex() for h in path]
        )

    @strawberry.field(
        description="The proof that the tree of the log's first `to` events extends the tree"
        " of its first `from`."
    )
    async def consistency_proof(
        self, info: Info, from_: Annotated[int, strawberry.argument(name="from")], to: int
    ) -> ConsistencyProof:
        try:
            path = await tree.prove_consistency(info.context.services.engine, from_, to)
        except tree.NoSuchProof as problem:
            raise bad_input(str(problem)) from None
        return ConsistencyProof(first_size=from_, second_size=to, path=[h.hex() for h in path])


@strawberry.type
class AuditQuery:
    @strawberry.field(description="For the auditor and admin roles.")
    def audit(self, info: Info) -> Audit:
        check_may_audit(info, "the audit view")
        return Audit()
