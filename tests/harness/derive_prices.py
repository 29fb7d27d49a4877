"""Derive Claude Code's per-token list prices from Claude Code itself.

``python -m tests.harness.derive_prices [MODEL ...] > prices.json``

For each model, runs the real client (``claude -p --model MODEL --output-format json``) several times
against the stand-in Messages API, each time with a different, known usage on its one reply (input,
output, cache read, and cache writes split between 5 minutes and 1 hour; one run leaves the split out,
as some responses do). Claude Code reports the ``costUSD`` it computed for the model; the prices are the
least-squares solution of ``cost = tokens . prices`` over the runs, in USD per million tokens, rounded
to 1e-6 $/MTok. A run whose cost the fitted prices miss by more than 1e-9 $ is reported on stderr.

Some models price a whole request higher once its context (input + cache read + cache write tokens)
passes a threshold. Two probes find out (1,000 and 1,000,000 input tokens alone); when their price per
token differs, the threshold is found by bisection on input-only runs, and each side is fitted from its
own runs (``above_context_tokens`` and ``above`` in the table).

Default models: every model in the client's catalog. Prints the ``models`` object of
``lib/omniclaude/usage/prices.json``.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.harness.claude_code import claude_env, ensure_claude_code, init_git_repo, prepare_home, run_claude
from tests.harness.messages_api import MessagesAPI, text

CATALOG = (
    "claude-opus-5-5",
    "claude-sonnet-5-5",
    "claude-haiku-5-5",
    "claude-opus-5",
    "claude-sonnet-5",
    "claude-fable-5",
    "claude-fable-5-1",
    "claude-fable-5-2",
    "claude-mythos-5",
    "claude-mythos-5-1",
    "claude-mythos-5-2",
    "claude-opus-4-8",
    "claude-opus-4-7",
    "claude-opus-4-6",
    "claude-opus-4-5",
    "claude-opus-4-1",
    "claude-opus-4-0",
    "claude-sonnet-4-6",
    "claude-sonnet-4-5",
    "claude-sonnet-4-0",
    "claude-haiku-4-5",
    "claude-3-7-sonnet",
    "claude-3-5-sonnet",
    "claude-3-5-haiku",
)
KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
RUNS = 7


def usage_for(rng: random.Random, split: bool, low: int = 0, high: int = 180_000) -> dict[str, Any]:
    """A reply usage with every kind non-zero and a context (input + cache) in (low, high]."""
    context = rng.randint(low + 1, high)
    parts = sorted(rng.sample(range(1, context), 3))
    input_tokens, read, five, hour = parts[0], parts[1] - parts[0], parts[2] - parts[1], context - parts[2]
    if not split:
        five, hour = five + hour, 0
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "output_tokens": rng.randint(1, 30_000),
        "cache_read_input_tokens": read,
        "cache_creation_input_tokens": five + hour,
    }
    if split:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": five, "ephemeral_1h_input_tokens": hour}
    return usage


def vector(usage: dict[str, Any]) -> list[int]:
    """The five token counts priced separately (an unsplit cache write counts as 5 minutes)."""
    hour = (usage.get("cache_creation") or {}).get("ephemeral_1h_input_tokens", 0)
    return [
        usage["input_tokens"],
        usage["output_tokens"],
        usage["cache_read_input_tokens"],
        usage["cache_creation_input_tokens"] - hour,
        hour,
    ]


def solve(rows: list[list[int]], costs: list[float]) -> list[Fraction]:
    """Least squares by the normal equations, exactly (Gauss-Jordan over fractions)."""
    n = len(rows[0])
    a = [[Fraction(sum(r[i] * r[j] for r in rows)) for j in range(n)] for i in range(n)]
    b = [sum(Fraction(r[i]) * Fraction(c) for r, c in zip(rows, costs, strict=True)) for i in range(n)]
    for col in range(n):
        pivot = next(r for r in range(col, n) if a[r][col] != 0)
        a[col], a[pivot], b[col], b[pivot] = a[pivot], a[col], b[pivot], b[col]
        for r in range(n):
            if r != col and a[r][col] != 0:
                f = a[r][col] / a[col][col]
                a[r] = [x - f * y for x, y in zip(a[r], a[col], strict=True)]
                b[r] -= f * b[col]
    return [b[i] / a[i][i] for i in range(n)]


class NoFigures(Exception):
    """The client did not report a cost for the model."""


def cost_of(model: str, usage: dict[str, Any], claude: Path, work: Path) -> float:
    """Claude Code's costUSD for one reply with this usage."""
    run = work / f"{model}-{len(list(work.glob(model + '-*')))}"
    with MessagesAPI(usage=lambda _body: dict(usage)) as api:
        api.add("PRICE-RUN", text("ok"))
        done = run_claude(
            claude,
            "PRICE-RUN",
            init_git_repo(run / "project"),
            claude_env(prepare_home(run / "home"), api.base_url),
            extra_args=["--model", model],
        )
    figures = ((done.result or {}).get("modelUsage") or {}).get(model)
    if not isinstance(figures, dict):
        raise NoFigures(done.describe()[:300])
    return float(figures["costUSD"])


def input_only(tokens: int) -> dict[str, Any]:
    return {"input_tokens": tokens, "output_tokens": 0, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}


def threshold(model: str, claude: Path, work: Path) -> int | None:
    """The largest context still priced at the low rate, or None when the price has one tier."""
    small, large = 1_000, 1_000_000
    low_rate = cost_of(model, input_only(small), claude, work) / small
    if abs(cost_of(model, input_only(large), claude, work) / large - low_rate) <= low_rate * 1e-9:
        return None
    while large - small > 1:  # invariant: small is priced at the low rate, large is not
        middle = (small + large) // 2
        rate = cost_of(model, input_only(middle), claude, work) / middle
        small, large = (middle, large) if abs(rate - low_rate) <= low_rate * 1e-9 else (small, middle)
    return small


def fit(model: str, claude: Path, work: Path, rng: random.Random, low: int, high: int) -> dict[str, float]:
    """Prices fitted from runs whose context lies in (low, high]."""
    rows, costs = [], []
    for run in range(RUNS):
        usage = usage_for(rng, run != 0, low, high)
        rows.append(vector(usage))
        costs.append(cost_of(model, usage, claude, work))
    prices = solve(rows, costs)
    for row, cost in zip(rows, costs, strict=True):
        fitted = float(sum(p * t for p, t in zip(prices, row, strict=True)))
        if abs(fitted - cost) > 1e-9:
            print(f"{model}: cost {cost} but fitted {fitted} for {row}", file=sys.stderr)
    return {kind: round(float(p) * 1_000_000, 6) for kind, p in zip(KINDS, prices, strict=True)}


def derive(model: str, claude: Path, work: Path, rng: random.Random) -> dict[str, Any] | None:
    """The price entry of one model (USD per million tokens), or None if the client would not run it."""
    try:
        above = threshold(model, claude, work)
        if above is None:
            return fit(model, claude, work, rng, 0, 180_000)
        return {
            **fit(model, claude, work, rng, 0, above),
            "above_context_tokens": above,
            "above": fit(model, claude, work, rng, above, above + 180_000),
        }
    except NoFigures as exc:
        print(f"{model}: no modelUsage ({exc})", file=sys.stderr)
        return None


def main(argv: list[str]) -> int:
    claude = ensure_claude_code()
    rng = random.Random(20261128)
    table = {}
    with tempfile.TemporaryDirectory() as scratch:
        for model in argv or CATALOG:
            prices = derive(model, claude, Path(scratch), rng)
            if prices is not None:
                table[model] = prices
                print(f"{model}: {prices}", file=sys.stderr)
    json.dump(table, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
