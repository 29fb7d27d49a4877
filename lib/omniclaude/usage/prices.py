"""The price table: what one API response cost, from its token counts, the way Claude Code computes it.

The table ships as package data (`prices.json`, with where its numbers came from); a user file
`<config dir>/prices.json` of the same shape (`{"models": {...}}`) replaces or adds whole model entries.
An entry holds USD per million tokens for `input`, `output`, `cache_read`, `cache_write_5m` and
`cache_write_1h`; optionally `above_context_tokens` and `above`, a second set of the same five prices
that applies to a whole request once its context (input + cache read + cache write tokens) exceeds that
many tokens.

Cost of one response = input x input + output x output + cache read x cache_read + (cache creation - 1h
part) x cache_write_5m + 1h part x cache_write_1h, in USD. Cache writes without a 5m/1h split count as
5-minute writes, as Claude Code counts them. A model is found by its exact name, else by the name with a
provider prefix (`us.anthropic.`) or a date/version suffix (`-20251001`, `-v1:0`) removed. An unknown model
has no price: `cost` returns None, never a guess.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

OVERRIDE_FILE = "prices.json"
KINDS = ("input", "output", "cache_read", "cache_write_5m", "cache_write_1h")
_SUFFIX = re.compile(r"(-\d{8})?(-v\d+(:\d+)?)?")
MAX_OVERRIDE_BYTES = 1024 * 1024


class PriceError(ValueError):
    """A price table that cannot be used; the message says where and what is wrong."""


@dataclass(frozen=True, slots=True)
class Rates:
    """USD per million tokens of each kind."""

    input: float
    output: float
    cache_read: float
    cache_write_5m: float
    cache_write_1h: float


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """A model's rates, and the rates above a context size if it has them."""

    rates: Rates
    above_context_tokens: int | None = None
    above: Rates | None = None

    def cost(self, *, input: int, output: int, cache_read: int, cache_creation: int, cache_1h: int) -> float:
        """USD for one response with these token counts."""
        one_hour = min(cache_1h, cache_creation)
        context = input + cache_read + cache_creation
        rates = self.rates
        if self.above is not None and self.above_context_tokens is not None and context > self.above_context_tokens:
            rates = self.above
        total = (
            input * rates.input
            + output * rates.output
            + cache_read * rates.cache_read
            + (cache_creation - one_hour) * rates.cache_write_5m
            + one_hour * rates.cache_write_1h
        )
        return total / 1_000_000


@dataclass(frozen=True)
class PriceTable:
    """Prices by model name, with where they came from."""

    models: Mapping[str, ModelPrice]
    sources: tuple[str, ...] = ()
    overridden: frozenset[str] = field(default_factory=frozenset)

    def find(self, model: str) -> tuple[str, ModelPrice] | None:
        """The table's name and price for `model`; None when the table does not know it."""
        if model in self.models:
            return model, self.models[model]
        start = model.find("claude-")
        name = model[start:] if start > 0 else model
        best: str | None = None
        for known in self.models:
            if name.startswith(known) and _SUFFIX.fullmatch(name[len(known) :]) and len(known) > len(best or ""):
                best = known
        return (best, self.models[best]) if best is not None else None

    def cost(
        self, model: str, *, input: int, output: int, cache_read: int, cache_creation: int, cache_1h: int
    ) -> float | None:
        """USD for one response of `model`; None for a model the table does not know."""
        found = self.find(model)
        if found is None:
            return None
        return found[1].cost(
            input=input, output=output, cache_read=cache_read, cache_creation=cache_creation, cache_1h=cache_1h
        )


def _rates(where: str, entry: object) -> Rates:
    if not isinstance(entry, dict):
        raise PriceError(f"{where}: expected an object of prices")
    values = []
    for kind in KINDS:
        value = entry.get(kind)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise PriceError(f"{where}: '{kind}' must be a non-negative number of USD per million tokens")
        values.append(float(value))
    return Rates(*values)


def parse_models(where: str, models: object) -> dict[str, ModelPrice]:
    """Validates a `models` object; raises PriceError naming the bad entry."""
    if not isinstance(models, dict):
        raise PriceError(f'{where}: expected {{"models": {{"<model>": {{...}}}}}}')
    parsed = {}
    for name, entry in models.items():
        rates = _rates(f"{where}: model {name!r}", entry)
        above_tokens = entry.get("above_context_tokens")
        above = None
        if above_tokens is not None or "above" in entry:
            if isinstance(above_tokens, bool) or not isinstance(above_tokens, int) or above_tokens <= 0:
                raise PriceError(f"{where}: model {name!r}: 'above_context_tokens' must be a positive integer")
            above = _rates(f"{where}: model {name!r} above {above_tokens} tokens", entry.get("above"))
        parsed[name] = ModelPrice(rates, above_tokens if above is not None else None, above)
    return parsed


def _document(where: str, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PriceError(f"{where}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise PriceError(f"{where}: expected a JSON object")
    return data


def builtin_document() -> dict[str, Any]:
    """The shipped table as its JSON object (with its `source` note)."""
    text = resources.files("omniclaude.usage").joinpath("prices.json").read_text(encoding="utf-8")
    return _document("the shipped price table", text)


def override_path(config_dir: str) -> str:
    """Where the user's price file lives."""
    return os.path.join(config_dir, OVERRIDE_FILE)


def load_prices(config_dir: str | None) -> PriceTable:
    """The shipped table with the user's file (if any) applied. Raises PriceError for a bad user file."""
    document = builtin_document()
    models = parse_models("the shipped price table", document.get("models"))
    sources = ["shipped with omniclaude"]
    overridden: frozenset[str] = frozenset()
    if config_dir is not None:
        path = override_path(config_dir)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_OVERRIDE_BYTES + 1)
        except FileNotFoundError:
            raw = None
        except OSError as exc:
            raise PriceError(f"{path}: cannot read ({exc.strerror or exc})") from None
        if raw is not None:
            if len(raw) > MAX_OVERRIDE_BYTES:
                raise PriceError(f"{path}: larger than {MAX_OVERRIDE_BYTES} bytes")
            user = parse_models(path, _document(path, raw.decode("utf-8", "replace")).get("models"))
            models.update(user)
            overridden = frozenset(user)
            sources.append(path)
    return PriceTable(models, tuple(sources), overridden)
