"""The `coop` command line: argument parsing and printing; the work is in service.operations."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata
from typing import Any

from projections.models import built_in_projectors
from service.cli import audit, projections, proofs, transfer
from service.cli.common import (
    FAILED,
    OK,
    USAGE,
    add_range,
    position,
    reported,
    synchronous,
)
from service.command import interrupted
from service.operations.database import check_sqlite_folder, opened
from service.redaction import masked
from service.services import build_services
from service.settings import ROLES, Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    try:
        return _run(argv)
    except KeyboardInterrupt:  # Ctrl-C: a traceback would say nothing more
        return interrupted()


def _run(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return USAGE
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"coop: {error}", file=sys.stderr)
        return USAGE
    result: int = args.run(settings, args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coop", description="Coop: the cooperation record.")
    parser.add_argument("--version", action="version", version=f"coop {_version()}")
    verbs = parser.add_subparsers(title="commands")

    serve = verbs.add_parser("serve", help="serve GraphQL over HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=_workers,
        default=os.cpu_count() or 1,
        help="processes serving the one port (default: this machine's CPUs)",
    )
    serve.set_defaults(run=_serve_until_stopped)

    db = verbs.add_parser("db", help="database schema").add_subparsers(title="db commands")
    upgrade = db.add_parser("upgrade", help="apply migrations up to the latest")
    upgrade.set_defaults(run=synchronous(_db_upgrade))

    seed = verbs.add_parser("seed", help="load the seed history (adds nothing when present)")
    seed.set_defaults(run=synchronous(_seed))
    _add_audit_verbs(verbs)

    tokens = verbs.add_parser("tokens", help="API tokens").add_subparsers(title="tokens commands")
    create = tokens.add_parser(
        "create", help="make a token: print its COOP_API_TOKENS entry (hashed) and the token"
    )
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--name", help="recorded as the actor of what the token writes")
    create.set_defaults(run=_create_token)
    return parser


def _add_audit_verbs(verbs: Any) -> None:
    """The operator and auditor verbs; their work is in service.operations."""
    read_models = verbs.add_parser("projections", help="read models: status and rebuild")
    which = read_models.add_subparsers(title="projections commands")
    status = which.add_parser("status", help="each projection's checkpoint and lag")
    status.set_defaults(run=synchronous(projections.status))
    rebuild = which.add_parser("rebuild", help="refold from the log, switch when complete")
    rebuild.add_argument(
        "name",
        nargs="?",
        help="one projection (all when omitted): "
        + ", ".join(sorted(p.name for p in built_in_projectors())),
    )
    rebuild.add_argument(
        "--diff",
        action="store_true",
        help="before switching, show how the rebuilt tables differ from the live ones",
    )
    rebuild.add_argument(
        "--dry-run",
        action="store_true",
        help="rebuild beside the live tables, show the differences, switch nothing"
        " (exit 1 when they differ)",
    )
    rebuild.add_argument(
        "--in-python",
        action="store_true",
        help="fold every projection in Python (the live path's fold), none by SQL in the database",
    )
    rebuild.set_defaults(run=synchronous(projections.rebuild))

    verify = verbs.add_parser(
        "verify", help="check the hash chain, the guards, a replay, the tree, checkpoints"
    )
    add_range(verify)
    verify.add_argument("--checkpoint", metavar="FILE", help="a checkpoint to check the log by")
    verify.add_argument("--public-key", metavar="FILE", help="the key checkpoints are signed by")
    verify.add_argument(
        "--checkpoints", action="store_true", help="check every stored checkpoint too"
    )
    verify.add_argument(
        "--in-python",
        action="store_true",
        help="fold the replay in Python (the live path's fold), none by SQL in the database",
    )
    verify.set_defaults(run=synchronous(audit.verify))

    keys = verbs.add_parser("keys", help="checkpoint signing keys").add_subparsers(
        title="keys commands"
    )
    make_keys = keys.add_parser("create", help="write a new Ed25519 key pair into DIR")
    make_keys.add_argument("--out", required=True, metavar="DIR")
    make_keys.set_defaults(run=proofs.create_keys)

    checkpoint = verbs.add_parser("checkpoint", help="sign the log's Merkle root, keep, print")
    checkpoint.set_defaults(run=synchronous(proofs.checkpoint))

    proof = verbs.add_parser("proof", help="an inclusion (or consistency) proof, as JSON")
    proof.add_argument("position", nargs="?", type=position, metavar="POSITION")
    proof.add_argument("--tree-size", type=position, metavar="N", help="the tree (the head)")
    proof.add_argument(
        "--consistency-from", type=position, metavar="M", help="prove tree M extends --tree-size"
    )
    proof.set_defaults(run=synchronous(proofs.proof))

    replay = verbs.add_parser("replay", help="build the record up to a point in a new file")
    replay.add_argument(
        "--until",
        required=True,
        type=transfer.point,
        metavar="POSITION|TIME",
        help="the last position to replay, or a time: the last event recorded by then (ISO"
        " 8601; without an offset, UTC; a date alone, its first moment)",
    )
    replay.add_argument("--into", required=True, metavar="FILE", help="a new SQLite file")
    replay.set_defaults(run=synchronous(transfer.replay))

    export = verbs.add_parser("export", help="write the log to stdout, one event a line")
    add_range(export)
    export.set_defaults(run=synchronous(transfer.export))

    load = verbs.add_parser("import", help="append an export to this database's log")
    load.add_argument("file", metavar="FILE", help="an export (NDJSON); - reads stdin")
    load.set_defaults(run=synchronous(transfer.import_))

    history = verbs.add_parser("history", help="every version behind a key, with provenance")
    history.add_argument("key", metavar="KEY", help="partner, program, membership or role key")
    history.add_argument("--json", action="store_true", help="one JSON document")
    history.set_defaults(run=synchronous(audit.show_history))


def _version() -> str:
    """The installed distribution's version (as pyproject.toml gives it)."""
    try:
        return metadata.version("coop")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def _create_token(_settings: Settings, args: argparse.Namespace) -> int:
    from service.auth import new_token

    entry, token = new_token(args.role, args.name)
    print(f"entry: {entry}")
    print(f"token: {token}")
    print(
        "coop: add the entry to COOP_API_TOKENS (comma-separated) and restart; give the token"
        " to its holder: it is shown only now, the entry keeps only its SHA-256",
        file=sys.stderr,
    )
    return OK


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes (1, 2, ...)")
    return int(text)


def _serve_until_stopped(settings: Settings, args: argparse.Namespace) -> int:
    try:
        code = synchronous(_serve)(settings, args)
        if code == OK and args.workers > 1:
            from service.server import serve_in_workers

            # Outside any event loop: the supervisor forwards signals to its workers.
            serve_in_workers(args.listening, args.host, args.port, args.workers)
        return code
    except KeyboardInterrupt:  # Ctrl-C: uvicorn has shut down cleanly, then raised it again
        return OK


@reported
async def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """Serve an existing, migrated database (never make one) on a port that is free."""
    from service.app import create_app
    from service.observability import configure_logging, log_config
    from service.server import listening_socket, server_for

    async with opened(settings):
        pass  # the database exists, answers and has the latest schema
    sock = listening_socket(args.host, args.port)
    configure_logging()  # from here on the server logs; until here, one line says why not
    if args.workers > 1:
        args.listening = sock  # each worker serves it; the caller starts them
        return OK
    server = server_for(create_app(settings), args.host, args.port, log_config=log_config())
    await server.serve(sockets=[sock])
    return OK if server.started else FAILED


@reported
async def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from service.migrate import upgrade

    check_sqlite_folder(settings.database_url)
    services = build_services(settings)
    try:
        await upgrade(services.engine)
    finally:
        await services.close()
    print(f"coop: database at {masked(settings.database_url)} is up to date")
    return OK


@reported
async def _seed(settings: Settings, _args: argparse.Namespace) -> int:
    from domain.errors import DomainError
    from service.seeding import load_seed

    async with opened(settings) as services:
        await services.projections.catch_up()
        try:
            report = await load_seed(services.commands)
        except DomainError as error:
            print(f"coop: the seed was refused: {error}", file=sys.stderr)
            return FAILED
    print(f"coop: {report}")
    return OK


__all__ = ["main"]
