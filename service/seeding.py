"""The seed history: the TMG document's facts as commands, loaded through the command path.

Each seed command has a stable name; its idempotency key (`seed:tmg:<name>`) makes a second
load write nothing, so `coop seed` can run on every start.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import msgspec

from domain.commands import Command, command_named
from domain.handling import Commands
from events.dates import PartialDate

SEED_ACTOR = "seed"
SEED_FILE = "tmg.json"
KEY_PREFIX = "seed:tmg:"


class SeedError(ValueError):
    """The seed file does not describe valid commands."""


@dataclass(frozen=True)
class SeedReport:
    written: int
    already_present: int

    def __str__(self) -> str:
        return f"{self.written} seed commands written, {self.already_present} already present"


def _decode(kind: type, value: Any) -> Any:
    if kind is PartialDate:
        return PartialDate.parse(value)
    # msgspec's convention: NotImplementedError tells it the hook does not handle this type.
    raise NotImplementedError(f"cannot read {kind.__name__} from the seed")


def seed_commands(file_name: str = SEED_FILE) -> list[Command]:
    """The seed file's commands, in order, each with its source and idempotency key."""
    text = resources.files("service").joinpath("seed", file_name).read_text(encoding="utf-8")
    data = json.loads(text)
    names = [entry["name"] for entry in data["commands"]]
    if len(set(names)) != len(names):
        raise SeedError(f"{file_name} gives a command name twice; names make the retry keys")
    return [_command(data["document"], entry) for entry in data["commands"]]


def _command(document: str, entry: dict[str, Any]) -> Command:
    name, args = entry["name"], entry["args"]
    cls = command_named(entry["command"])
    if cls is None:
        raise SeedError(f"seed command {name!r}: there is no command {entry['command']!r}")
    unknown = sorted(set(args) - {f.name for f in dataclasses.fields(cls)})
    if unknown:
        raise SeedError(f"seed command {name!r}: {cls.__name__} has no {', '.join(unknown)}")
    given = {
        **args,
        "source": {"document": document, "section": entry["section"]},
        "idempotency_key": f"{KEY_PREFIX}{name}",
    }
    try:
        return msgspec.convert(given, cls, dec_hook=_decode)
    except (msgspec.ValidationError, ValueError) as error:
        raise SeedError(f"seed command {name!r} is not valid: {error}") from None


async def load_seed(commands: Commands, seed: list[Command] | None = None) -> SeedReport:
    """Execute every seed command as the actor `seed`; count what was new and what was not.

    A seed command whose key is already in the log counts as present even where the seed
    file has since spelled it differently (a renamed field): the fact it stands for is there.
    """
    written = present = 0
    for command in seed_commands() if seed is None else seed:
        key = command.idempotency_key
        if key is not None and await commands.store.result_for_idempotency_key(key):
            present += 1
            continue
        outcome = await commands.execute(command, SEED_ACTOR)
        if outcome.replayed:
            present += 1
        else:
            written += 1
    return SeedReport(written=written, already_present=present)
