"""The Hyperscan scans: supersets of the rules they stand for, and exact word starts."""

from __future__ import annotations

import re

import pytest
from omniclaude.redact import _engine as engine
from omniclaude.redact._scan import RuleScan, shadow
from omniclaude.redact.keywords import STEMS

from tests.omniclaude.redact.test_engine import CORPUS, _events_with_secrets, _EveryRule

ASCII_CORPUS = [text for text in CORPUS if text.isascii()]
# What `re` counts as space, digit or word character beyond ASCII's, and lone surrogates.
ODD = ["\x1c", "\x1f", "\x85", "\u00a0", "\u2003", "\u3000", "\u0663", "\u00b2", "\u00e9", "\u212a", "\ud800"]
SCAN_CORPUS = CORPUS + [text.replace(" ", odd).replace("=", odd + "=") for odd in ODD for text in CORPUS[:400]]


@pytest.fixture(scope="module")
def scan() -> RuleScan:
    return engine._new_rule_scan()


def test_every_rule_that_matches_a_text_is_named_by_the_scan(scan: RuleScan) -> None:
    assert scan.always == ()  # every built-in pattern compiles
    missed = []
    for text in SCAN_CORPUS:
        named = set(scan.scan(text)[0])
        if not text.isascii():
            named.update(scan.unicode)
        for index, rule in enumerate(engine._BUILTIN_RULES):
            if index not in named and rule.pattern.search(text) is not None:
                missed.append((rule.kind, text))
    assert missed == []


def test_the_shadow_keeps_offsets_and_what_re_sees() -> None:
    text = "a\u212ab \u00e9\u2014\u03a3\u00a0\u0663\u00b2\x1c\ud800x"
    assert shadow(text) == b"akb Q\x01Q\x0b0Q\x0b\x01x"
    assert len(shadow(text)) == len(text)


def test_the_scan_names_no_rule_for_plain_code(scan: RuleScan) -> None:
    assert scan.scan("") == (set(), [])
    assert scan.scan("def total(values: list[int]) -> int:\n    return sum(values)\n")[0] == set()
    assert scan.scan("password = 'hunter2'")[0] == {129}


def test_a_pattern_hyperscan_cannot_take_is_reported_as_always() -> None:
    scan = RuleScan([re.compile(r"\N{DIGIT ONE}x"), re.compile("^secret$"), re.compile(r"x{,2}y")])
    assert scan.always == (0,)
    assert scan.scan("a secret, y")[0] == {1, 2}  # anchors dropped; x{,2}y is x{0,2}y, as in `re`
    assert scan.scan("1x")[0] == set()


def test_word_starts_are_where_re_finds_the_words_ignoring_case() -> None:
    words = RuleScan([], STEMS)
    for text in [*ASCII_CORPUS[:500], "PASSWORD passpass Token\nkey", "pa\u017f\u017fword \u00e9token", ""]:
        found = {m.start() for stem in STEMS for m in re.finditer(f"(?={re.escape(stem)})", text, re.I)}
        assert found <= set(words.scan(text)[1]), text


@pytest.mark.parametrize("way", ["literals", "scan", "no hyperscan"])
def test_every_way_to_pick_rules_matches_every_rule(way: str, scan: RuleScan, monkeypatch: pytest.MonkeyPatch) -> None:
    # Before the database is compiled, short texts go by trigger literals; after, every text is scanned;
    # without the hyperscan package (no wheel for the platform), everything goes by trigger literals.
    monkeypatch.setattr(engine, "_RULE_SCAN", [scan] if way == "scan" else [])
    monkeypatch.setattr(engine, "_SCAN_FROM", 0 if way == "scan" else 10**9)
    monkeypatch.setattr(engine, "SCAN_AVAILABLE", way != "no hyperscan")
    fast, reference = engine.Redactor(), _EveryRule()
    assert [text for text in CORPUS if fast.redact_text(text) != reference.redact_text(text)] == []
    if way == "no hyperscan":
        assert engine._rule_scan("x" * 1000) is None


def test_the_scan_finds_the_stems_of_each_piece_between_markers(scan: RuleScan) -> None:
    # A rule that left a marker splits the text: the stems of the pieces are found anew.
    text = "ghp_" + "a1" * 18 + " token=abcdef1234567890 and session_key: 'x9f8e7d6c5b4a39281'"
    assert engine.Redactor().redact_text(text) == _EveryRule().redact_text(text)


@pytest.mark.parametrize("compiled", [False, True])
def test_the_walk_matches_the_reference_with_and_without_the_scan(
    compiled: bool, scan: RuleScan, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the scan compiled, an event's short texts are scanned joined, and looked at one by one only
    # when some rule may match one of them.
    monkeypatch.setattr(engine, "_RULE_SCAN", [scan] if compiled else [])
    clean = {"cwd": "/home/dev/app", "tool_input": {"command": "git status"}, "list": ["a", "b c"]}
    values = [*_events_with_secrets(), clean, {"texts": CORPUS[:300]}, [{"t": text} for text in CORPUS[300:900]]]
    fast, reference = engine.Redactor(), _EveryRule()
    for value in values:
        assert repr(fast.redact(value)) == repr(reference.reference(value))
