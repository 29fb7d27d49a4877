"""The price table: Claude Code's own costs, tiers, model name matching, the user's file, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omniclaude.usage.prices import PriceError, PriceTable, builtin_document, load_prices

from tests.omniclaude.usage.test_transcript import FIXTURE


def usd(table: PriceTable, model: str, *tokens: int) -> float | None:
    """Cost of (input, output, cache read, cache creation, of which 1 h) tokens."""
    return table.cost(
        model, **dict(zip(("input", "output", "cache_read", "cache_creation", "cache_1h"), tokens, strict=True))
    )


def test_the_shipped_table_says_where_it_came_from_and_covers_the_default_models() -> None:
    document = builtin_document()
    assert "Claude Code 2.1.328" in document["source"]
    table = load_prices(None)
    for model in ("claude-opus-5-5", "claude-sonnet-5-5", "claude-haiku-5-5"):
        assert table.find(model) is not None


@pytest.mark.parametrize("run", ["first_run", "resumed_run"])
def test_it_reproduces_claude_codes_cost_of_the_fixture(run: str) -> None:
    [(model, f)] = json.loads((FIXTURE / "claude-p-output.json").read_text())[run]["modelUsage"].items()
    cost = load_prices(None).cost(
        model,
        input=f["inputTokens"],
        output=f["outputTokens"],
        cache_read=f["cacheReadInputTokens"],
        cache_creation=f["cacheCreationInputTokens"],
        cache_1h=f["cacheCreationEphemeral1hInputTokens"],
    )
    assert cost == pytest.approx(f["costUSD"], rel=1e-12)


def test_one_hour_cache_writes_and_the_context_tier() -> None:
    table = load_prices(None)
    # Measured with Claude Code 2.1.328: haiku-5-5 prices a whole request at 5x above 100,000 context tokens.
    assert usd(table, "claude-haiku-5-5", 100_000, 0, 0, 0, 0) == pytest.approx(0.01)
    assert usd(table, "claude-haiku-5-5", 100_001, 0, 0, 0, 0) == pytest.approx(0.0500005)
    assert usd(table, "claude-haiku-5-5", 50_000, 0, 0, 50_001, 50_001) == pytest.approx(0.075001)
    assert usd(table, "claude-opus-5-5", 0, 0, 0, 3_000, 2_000) == pytest.approx((1_000 * 5 + 2_000 * 8) / 1e6)


def test_provider_prefixes_and_date_suffixes_find_the_model_but_nothing_is_guessed() -> None:
    table = load_prices(None)
    assert table.find("us.anthropic.claude-opus-5-5-20260101-v1:0")[0] == "claude-opus-5-5"  # type: ignore[index]
    assert table.find("claude-opus-5-5-turbo") is None
    assert usd(table, "gpt-5", 1, 1, 1, 1, 1) is None


def test_the_users_file_replaces_and_adds_models(tmp_path: Path) -> None:
    entry = {"input": 1, "output": 2, "cache_read": 0.1, "cache_write_5m": 1.25, "cache_write_1h": 2}
    (tmp_path / "prices.json").write_text(json.dumps({"models": {"claude-opus-5-5": entry, "local-llm": entry}}))
    table = load_prices(str(tmp_path))
    assert usd(table, "local-llm", 1_000_000, 0, 0, 0, 0) == 1.0
    assert usd(table, "claude-opus-5-5", 1_000_000, 0, 0, 0, 0) == 1.0
    assert table.overridden == {"claude-opus-5-5", "local-llm"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not JSON"),
        ('{"models": []}', "expected"),
        ('{"models": {"m": {"input": -1}}}', "'input' must be a non-negative number"),
        (
            '{"models": {"m": {"input": 1, "output": 1, "cache_read": 1, "cache_write_5m": 1, "cache_write_1h": 1,'
            ' "above": {}}}}',
            "above_context_tokens",
        ),
    ],
)
def test_a_bad_users_file_is_refused_with_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "prices.json").write_text(text)
    with pytest.raises(PriceError, match=message) as caught:
        load_prices(str(tmp_path))
    assert str(tmp_path / "prices.json") in str(caught.value)
