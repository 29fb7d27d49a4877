"""`python -m omniclaude`: the same as the `omniclaude` command."""

from omniclaude.cli import main

raise SystemExit(main())
