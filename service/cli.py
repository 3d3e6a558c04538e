"""The `coop` command line."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from service.services import build_services
from service.settings import Settings, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"coop: {error}", file=sys.stderr)
        return 2
    result: int = args.run(settings, args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coop", description="Coop: the cooperation record.")
    verbs = parser.add_subparsers(title="commands")

    serve = verbs.add_parser("serve", help="serve GraphQL over HTTP and WebSocket")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)

    db = verbs.add_parser("db", help="database schema").add_subparsers(title="db commands")
    upgrade = db.add_parser("upgrade", help="apply migrations up to the latest")
    upgrade.set_defaults(run=_async(_db_upgrade))

    seed = verbs.add_parser("seed", help="load the seed history (adds nothing when present)")
    seed.set_defaults(run=_async(_seed))
    return parser


def _async(
    function: Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, int]],
) -> Callable[[Settings, argparse.Namespace], int]:
    def run(settings: Settings, args: argparse.Namespace) -> int:
        return asyncio.run(function(settings, args))

    return run


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import create_app

    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


async def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    from service.migrate import upgrade

    services = build_services(settings)
    try:
        await upgrade(services.engine)
    finally:
        await services.close()
    print(f"coop: database at {settings.database_url} is up to date")
    return 0


async def _seed(settings: Settings, _args: argparse.Namespace) -> int:
    from service.errors import DomainError
    from service.seeding import load_seed

    services = build_services(settings)
    try:
        await services.projections.catch_up()
        report = await load_seed(services.commands)
    except DomainError as error:
        print(f"coop: the seed was refused: {error}", file=sys.stderr)
        return 1
    finally:
        await services.close()
    print(f"coop: {report}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
