"""The `coop` command's entry point. Loading the command line takes a second or two (its
imports); Ctrl-C then ends it as Ctrl-C later does, with a line and exit 130, not a
traceback."""

from __future__ import annotations

import sys

INTERRUPTED = 130  # as a shell reports a command stopped by Ctrl-C (128 + SIGINT)


def main() -> int:
    try:
        from service.cli import main as run
    except KeyboardInterrupt:
        return interrupted()
    return run()


def interrupted() -> int:
    """Say that Ctrl-C stopped the command, and what that left: a verb's transaction under
    way is rolled back, a replay's file is moved into place only when complete; what a verb
    committed before (a continued import's earlier batches) stays."""
    print(
        "coop: interrupted; a transaction under way, if any, was rolled back; what was"
        " committed before it stays",
        file=sys.stderr,
    )
    return INTERRUPTED
