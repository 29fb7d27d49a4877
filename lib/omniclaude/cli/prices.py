"""`omniclaude prices`: the price table in force (USD per million tokens), and where it comes from.

The table ships with omniclaude; `<config dir>/prices.json` (`{"models": {"<model>": {...}}}`, the same
keys as `--json` prints) replaces or adds whole model entries. Exit status: 0, or 1 when the user's file
cannot be used (the line says what is wrong).
"""

from __future__ import annotations

import argparse
import json
import sys

from omniclaude.config import load_settings_or_defaults
from omniclaude.usage.prices import KINDS, PriceError, load_prices, override_path

_HEADERS = ("model", "input", "output", "cache read", "cache write 5m", "cache write 1h")


def _run(args: argparse.Namespace) -> int:
    config_dir = load_settings_or_defaults().dirs.config
    try:
        table = load_prices(config_dir)
    except PriceError as exc:
        print(f"omniclaude prices: {exc}; fix or remove that file", file=sys.stderr)
        return 1
    if args.json:
        models = {
            name: {
                **{kind: getattr(price.rates, kind) for kind in KINDS},
                **(
                    {
                        "above_context_tokens": price.above_context_tokens,
                        "above": {kind: getattr(price.above, kind) for kind in KINDS},
                    }
                    if price.above
                    else {}
                ),
            }
            for name, price in sorted(table.models.items())
        }
        print(json.dumps({"sources": list(table.sources), "models": models}, indent=2))
        return 0
    rows: list[tuple[str, ...]] = [_HEADERS]
    for name, price in sorted(table.models.items()):
        marker = " *" if name in table.overridden else ""
        rows.append((name + marker, *(f"{getattr(price.rates, kind):g}" for kind in KINDS)))
        if price.above is not None:
            rows.append(
                (f"  above {price.above_context_tokens} tokens", *(f"{getattr(price.above, kind):g}" for kind in KINDS))
            )
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS))]
    for row in rows:
        print(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
    print(f"USD per million tokens. From: {', '.join(table.sources)}.")
    if table.overridden:
        print(f"* from {override_path(config_dir)}")
    else:
        print(f"Override or add models in {override_path(config_dir)}.")
    return 0


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Registers `prices`."""
    parser = subparsers.add_parser(
        "prices",
        help="show the price table used for cost_usd",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the table as one JSON object")
    parser.set_defaults(handler=_run)
