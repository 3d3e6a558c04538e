"""`python -m service.cli`: the same as the `coop` command."""

from service.cli import main

raise SystemExit(main())
