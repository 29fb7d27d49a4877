"""The Hyperscan scans: supersets of the rules they stand for, and exact word starts."""

from __future__ import annotations

import re

import pytest
from omniclaude.redact import _engine as engine
from omniclaude.redact._scan import RuleScan, WordScan
from omniclaude.redact.keywords import STEMS

from tests.omniclaude.redact.test_engine import CORPUS, _EveryRule

ASCII_CORPUS = [text for text in CORPUS if text.isascii()]


@pytest.fixture(scope="module")
def scan() -> RuleScan:
    return RuleScan([rule.pattern for rule in engine._BUILTIN_RULES])


def test_every_rule_that_matches_a_text_is_named_by_the_scan(scan: RuleScan) -> None:
    assert scan.always == ()  # every built-in pattern compiles
    missed = []
    for text in ASCII_CORPUS:
        named = scan.matching(text)
        for index, rule in enumerate(engine._BUILTIN_RULES):
            if index not in named and rule.pattern.search(text) is not None:
                missed.append((rule.kind, text))
    assert missed == []


def test_the_scan_names_no_rule_for_plain_code(scan: RuleScan) -> None:
    assert scan.matching("") == set()
    assert scan.matching("def total(values: list[int]) -> int:\n    return sum(values)\n") == set()
    assert scan.matching("password = 'hunter2'") == {129}


def test_a_pattern_hyperscan_cannot_take_is_reported_as_always() -> None:
    scan = RuleScan([re.compile(r"a$b"), re.compile("secret"), re.compile(r"x{,2}y")])
    assert scan.always == (0,)
    assert scan.matching("a secret, y") == {1, 2}  # x{,2}y is x{0,2}y, as in `re`
    assert scan.matching("a\nb") == set()


def test_word_starts_ignore_case_and_overlap() -> None:
    words = WordScan(STEMS)
    for text in [*ASCII_CORPUS[:500], "PASSWORD passpass Token\nkey", ""]:
        expected = sorted({m.start() for stem in STEMS for m in re.finditer(f"(?={re.escape(stem)})", text, re.I)})
        assert words.starts(text) == expected, text


@pytest.mark.parametrize("compiled", [False, True])
def test_both_ways_to_pick_rules_match_every_rule(
    compiled: bool, scan: RuleScan, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before the database is compiled, short texts go by trigger literals; after, every ASCII text is scanned.
    monkeypatch.setattr(engine, "_RULE_SCAN", [scan] if compiled else [])
    monkeypatch.setattr(engine, "_SCAN_FROM", 0 if compiled else 10**9)
    fast, reference = engine.Redactor(), _EveryRule()
    assert [text for text in CORPUS if fast.redact_text(text) != reference.redact_text(text)] == []
