"""`coop keys create`, `coop checkpoint` and `coop proof`: signing the log and proving it."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from service.cli.common import OK, reported
from service.operations.checkpoints import (
    ConsistencyProof,
    InclusionProof,
    make_checkpoint,
    prove_consistency,
    prove_inclusion,
)
from service.operations.database import Refused, opened
from service.settings import Settings
from service.signing import KeyProblem, create_key_pair


def create_keys(_settings: Settings, args: argparse.Namespace) -> int:
    try:
        private_path, public_path = create_key_pair(Path(args.out))
    except (KeyProblem, OSError) as problem:
        print(f"coop: {problem}", file=sys.stderr)
        return 1
    print(f"coop: wrote {private_path} (private, mode 0600) and {public_path} (public)")
    print(f"coop: sign checkpoints with COOP_SIGNING_KEY={private_path}", file=sys.stderr)
    return OK


@reported
async def checkpoint(settings: Settings, _args: argparse.Namespace) -> int:
    async with opened(settings) as services:
        try:
            made = await make_checkpoint(services)
        except KeyProblem as problem:
            raise Refused(f"COOP_SIGNING_KEY: {problem}", usage=True) from None
    print(json.dumps(made.as_json()))
    return OK


@reported
async def proof(settings: Settings, args: argparse.Namespace) -> int:
    """An inclusion proof of POSITION, or with --consistency-from a consistency proof; in
    the tree of --tree-size events (the head when not given)."""
    async with opened(settings) as services:
        size = args.tree_size or (await services.store.head()).position
        if args.consistency_from is not None:
            found: InclusionProof | ConsistencyProof = await prove_consistency(
                services, args.consistency_from, size
            )
        elif args.position is None:
            raise Refused("give a POSITION (or --consistency-from N)", usage=True)
        else:
            found = await prove_inclusion(services, args.position, size)
    print(json.dumps(dataclasses.asdict(found)))
    return OK
