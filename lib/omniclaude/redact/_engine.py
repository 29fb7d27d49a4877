"""Secret redaction: secrets never leave the machine.

The forwarder passes every event through :func:`redact` before it is sent to Kafka.

Contract:

- Pure: no I/O and no state beyond patterns compiled once; the input is never mutated,
  a redacted copy is returned.
- Never raises on JSON-like input (dict, list, str, int, float, bool, None). Tuples are
  read as lists; any other object is returned as it is.
- A secret is replaced by a typed marker ``[REDACTED:<kind>]``. The context around it is
  kept: the key and separator of an assignment, quotes, the ``Bearer`` scheme, and the
  scheme, user and host of a URL.
- Idempotent: markers are never matched again, so redacting twice equals redacting once.
- Linear time: every built-in pattern starts on a literal or a bounded prefix, and each
  unbounded run stops at a character that ends the next candidate's run too, so no text is
  rescanned from many starting points. Extra patterns from configuration are the caller's
  to keep linear.
- Fast: one Hyperscan pass over a text names the rules that may match it (see ``_scan``); only
  those run. (Without Hyperscan, and for a short text before the pass is compiled, the rules whose
  trigger literals the text holds run.) Keyword rules are tried only where a stem starts (or at the start of
  a line that holds one; everywhere in a text that went by trigger literals), vendor rules start on
  their literal prefix.
- A text that is a JSON object or array is redacted as the structure it holds first (which sees
  through its escapes), then as text.

Kinds, from the most specific to the least:

- whole tokens recognised by shape: ``private-key`` (a PEM block from BEGIN to END, or to
  the end of the string when END is missing; a DER key body without its BEGIN line; a PEM key
  wrapped in base64), ``jwt``, ``aws-access-key``, ``github-token``, ``gitlab-token``,
  ``slack-webhook``, ``slack-token``, ``stripe-key``, ``google-api-key``, ``anthropic-key``,
  ``openai-key``, ``npm-token``, ``pypi-token``, ``huggingface-token``, and every rule of
  ``vendors.VENDOR_RULES`` (its id is the kind);
- values recognised by context: ``url-credentials`` (the password of
  ``scheme://user:password@host``), ``bearer`` (an Authorization header value after its
  scheme, or ``Bearer <token>`` anywhere), ``cookie`` (a Cookie or Set-Cookie header value),
  passwords given on command lines (``curl -u``, ``mysql -p``, ``sshpass -p``, ``redis-cli -a``,
  ``docker login -p``, ``pass:``, ``echo pw | sudo -S``, ``--from-literal=``, ``htpasswd -b``),
  ``.pgpass`` lines, a Kubernetes Secret's ``data:``, prose ("my password is ...", in several
  languages), and assignments whose key names a secret (the kind comes from
  ``keywords.classify``: ``password``, ``secret``, ``token``, ``api-key``, ``aws-secret-key``,
  ``private-key``, ``credentials``, ``cookie``, ``session``, ``signature``, ``authorization``);
- a long random-looking run shortly after a secret word (hex only on the same line);
- dict keys that name a secret also give ``authorization`` (auth, authorization) and
  ``cookie``;
- ``custom``: a match of an extra pattern from configuration.

Decisions on near misses:

- A key names a secret when one of its words contains a secret word (``keywords``):
  ``DB_PASS``, ``MYSQL_PWD``, ``clientSecret``, ``x-api-key``, ``SECRET_KEY_BASE`` and
  ``csrftoken`` do; ``max_tokens``, ``token_count``, ``tokenizer``, ``passwordless``,
  ``session_id`` and ``secret_name`` do not, nor do ``eos_token`` and its tokenizer siblings.
  Weak names (``key``, ``auth``, ``session``, ``private``) need a value that looks secret. In
  text, ``Authorization`` and ``Cookie`` are left to the header rules, which know the schemes.
- In dicts, a string under a secret key is replaced whole, also inside a list under that
  key; numbers, booleans, None and empty strings are kept. ``{"name": "DB_PASSWORD",
  "value": "..."}`` pairs count the name as the key of the value, and so do pairs such as
  ``["X-Auth-Token", "..."]``. Dict keys are redacted as text too.
- In text, an assignment (``k=v``, ``k: v``, ``"k": "v"``, ``['k'] = v``, ``k := v``,
  ``k => v``, ``k == v``, ``k: str = v``, ``--k v``, ``<k>v</k>``) keeps the key, separator,
  quotes and string prefix (``f"..."``). An unquoted value stops at whitespace, quotes or
  ``,;&|<>()[]{}``; at the start of a line, ``k: value`` is YAML and the value runs to the
  end of the line. A quoted value may lack its closing quote (a text cut short), unless it
  goes on with a closer, as the ``")`` of ``getpass("Password: ")`` does. An unquoted value
  after ``: `` in text must look secret (``Invalid token: signature has expired`` stays).
- Values that hold no secret are kept: null and boolean words, type names (``token: str``),
  ``***`` masks, references (``$UPPER_CASE``, ``${name}``, ``${{ secrets.X }}``,
  ``{{ .Values.x }}``, ``{token}``), code (``getpass()``, ``os.environ[...]``, and dotted
  names holding the key, ``self.token``, ``token.strip``) and file paths ending in the key
  (``/run/secrets/db_password``). ``password=password`` is redacted: that value may be the
  password. ``password: ${X:-default}`` is redacted: the default may be one.
- ``sk-`` needs 20 more characters with a digit or an upper-case letter and no word
  character or dash before it (so ``sk-learn-compatible-estimators`` and ``task-sk-1``
  stay); ``pk_live_`` keys are publishable and stay; ``Bearer`` outside an Authorization
  header needs a token of 16 or more characters with a digit (so prose stays).
- Known misses, for want of a shape or a key: an AWS secret key or an opaque token standing
  alone, far from any secret word; ``user:pass@host`` without a scheme. Git SHAs, UUIDs,
  digests and base64 blobs are kept for the same reason.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast, overload

from omniclaude.redact._scan import AVAILABLE as SCAN_AVAILABLE
from omniclaude.redact._scan import RuleScan, shadow
from omniclaude.redact.keywords import STEMS, KeyName, classify, looks_secret, shannon_entropy
from omniclaude.redact.vendors import TOKEN_START, VENDOR_RULES, VendorRule

__all__ = ["Redactor", "redact"]

_MARKER_SPLIT: Final = re.compile(r"(\[REDACTED:[a-z0-9-]+\])")
_MARKER: Final = re.compile(r"\[REDACTED:[a-z0-9-]+\]")


def _minimal(literals: set[str]) -> tuple[str, ...]:
    """``literals`` less those that hold another one (``credentials`` holds ``credential``)."""
    return tuple(sorted(a for a in literals if not any(b != a and b in a for b in literals)))


# In text, a key is found by one of the stems its name holds; `keywords.classify` then judges the
# whole name (``DB_PASS``, ``SECRET_KEY_BASE``, not ``token_count``).
_KEY_WORD_TRIGGERS: Final = _minimal(set(STEMS))

_NOT_SECRETS: Final = frozenset(
    {
        "none", "null", "nil", "undefined", "true", "false", "~", "str", "string", "bytes", "int",
        "integer", "number", "bool", "boolean", "float", "any", "object", "optional", "secretstr",
        "secretbytes", "required",
    }
)  # fmt: skip
# References: `$DB_PASSWORD`, `${db_password}`, `${{ secrets.TOKEN }}`, `{{ .Values.password }}`,
# and format placeholders `{token}`, `{self.token!r}`.
_REFERENCE: Final = re.compile(
    r"\$(?:[A-Z_][A-Z0-9_]*|\{[A-Za-z_][A-Za-z0-9_]*\})|\$?\{\{[^{}\r\n]*\}\}"
    r"|\{[A-Za-z_][A-Za-z0-9_.]*(?:![rsa])?(?::[^{}\r\n]*)?\}"
)
_MASK: Final = re.compile(r"[*\u2022]+")
_IDENTIFIER_PATH: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*")
_FILE_PATH: Final = re.compile(r"[A-Za-z0-9_.~-]*(?:/[A-Za-z0-9_.~-]*)+")
_ONE_CASE: Final = re.compile(r"[a-z0-9_.-]+|[A-Z0-9_.-]+")
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEPARATORS: Final = re.compile(r"[-.\s]+")
_FIRST_WORD: Final = re.compile(r"[^\s=|,(\[]*")
_PORT_AND_PATH: Final = re.compile(r"\d{1,5}(?:/|\Z)")
_HAS_DIGIT: Final = re.compile(r"[0-9]")
_HEX_RUN: Final = re.compile(r"[0-9a-fA-F-]+")
_PROSE_WORDS: Final = (
    "password", "passwort", "kennwort", "passphrase", "passcode", "mot de passe", "contrasena", "contraseña",
    "clave", "senha", "wachtwoord", "haslo", "hasło", "lösenord", "salasana", "şifre", "密码", "密碼",
    "パスワード", "비밀번호",
)  # fmt: skip
_HTTP_SCHEMES: Final = frozenset({"bearer", "basic", "token", "bot", "digest", "negotiate", "ntlm", "apikey"})


def _snake(name: str) -> str:
    """``apiKey`` -> ``api_key``, ``X-Api-Key`` -> ``x_api_key``."""
    return _KEY_SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", name)).lower()


def _names_a_secret(value: str, word: str, after: str = "") -> bool:
    """False for values that only name or point at a secret instead of holding one: null and
    type words, masks, references, and code (``self.token``, ``getpass()``, ``os.environ[...]``).
    ``after`` is the character that follows the value."""
    if value.lower() in _NOT_SECRETS or _MASK.fullmatch(value) or _REFERENCE.fullmatch(value):
        return False
    if _IDENTIFIER_PATH.fullmatch(value):
        if after in ("(", "["):
            return False
        if word and "." in value and any(classify(part) is not None for part in value.split(".")):
            return False
    if word.lower() in ("pwd", "oldpwd") and value[:1] in ("/", "~"):
        return False  # the shell's working directory
    if word and _FILE_PATH.fullmatch(value):  # a file that holds the secret: /run/secrets/db_password
        last = value.rsplit("/", 1)[-1]
        return not (_ONE_CASE.fullmatch(last) and classify(last) is not None)
    return True


_NO_SPACE_KINDS: Final = frozenset({"token", "api-key", "authorization", "session", "signature"})


def _yaml_value_is_secret(value: str, word: str, after: str) -> bool:
    """A YAML value whose first word is no secret is left to the inline rule (``token: str = x``),
    and so is one with spaces unless the name is a password's (``Token: 4821 of 8192 used``)."""
    named = classify(word)
    if " " in value.strip() and (named is None or named.weak or named.kind in _NO_SPACE_KINDS):
        return False
    first = _FIRST_WORD.match(value)
    return _names_a_secret(first.group() if first else value, word) and _names_a_secret(value, word)


def _header_value_is_secret(value: str, word: str, after: str) -> bool:
    return value.lower() not in _HTTP_SCHEMES and _names_a_secret(value, word)


def _url_password(value: str, word: str, after: str) -> bool:
    """A URL's password, not a port and path (``host:8080/a@b``)."""
    return _PORT_AND_PATH.match(value) is None and _names_a_secret(value, word)


def _wraps_private_key(value: str, word: str, after: str) -> bool:
    """True when base64 ``value`` decodes to a PEM private key's BEGIN line."""
    head = value[:64]
    try:
        text = base64.b64decode(head[: len(head) // 4 * 4])
    except ValueError:
        return False
    return b"PRIVATE KEY" in text


def _prose_password(value: str, word: str, after: str) -> bool:
    value = value.rstrip(".,;!?)")
    return looks_secret(value, 6) and _names_a_secret(value, word, after)


def _high_entropy(value: str, word: str, after: str) -> bool:
    """A random-looking run: letters and digits, no word or path shape, and enough bits per character."""
    core = value.strip("=.-_")
    if (
        len(core) < 20
        or not (_HAS_DIGIT.search(core) and looks_secret(core))
        or (_FILE_PATH.fullmatch(core) and core.count("/") > 1)
    ):
        return False
    if _HEX_RUN.fullmatch(core):
        return False  # the hex rule's, on the secret word's own line
    return shannon_entropy(core) >= min(4.0, 0.8 * math.log2(len(core)))


def _high_entropy_hex(value: str, word: str, after: str) -> bool:
    return shannon_entropy(value) >= 3.0


def _has_digit(value: str, word: str, after: str) -> bool:
    return any(c.isdigit() for c in value)


def _has_digit_or_upper(value: str, word: str, after: str) -> bool:
    return any(c.isdigit() or c.isupper() for c in value)


# Literals (lower-case ASCII) that every match of a rule holds, as clauses: each clause needs one of
# its literals in the folded text (see _fold). A rule whose clauses are not all met cannot match.
_Triggers = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class _Rule:
    """One pattern. Without value groups the whole match is the secret; with them, the
    first group that took part is, and the rest of the match is kept. A ``keyed`` rule found
    a stem in group ``word``: the whole name around it (``keywords.classify``) picks the kind,
    or keeps the match when it names no secret. A rule with a group ``k`` takes the name from
    it (``{"name": "DB_PASS", "value": ...}``). A weak name's value is kept unless it looks
    secret; so is an unquoted value after ``: `` in text (``Invalid token: signature has
    expired``). ``triggers``, when set, name literals that every match holds (None: the rule
    always runs). ``scan``, when set, is a simpler pattern that matches wherever this one does (a
    part of it, with the lookarounds and the tail left out), which the Hyperscan pass looks for
    instead: the whole pattern costs it more and tells it less. ``near``, when set for an ``at_stems``
    rule, is a cheap test at a start that is falsy wherever the pattern cannot match there (it may be
    truthy where the pattern then does not match)."""

    kind: str
    pattern: re.Pattern[str]
    value_groups: tuple[str, ...] = ()
    keyed: bool = False
    accept: Callable[[str, str, str], bool] | None = None
    triggers: _Triggers | None = None
    bounded: bool = False
    at_stems: bool = False
    scan: re.Pattern[str] | None = None
    near: Callable[[str, int], object] | None = None

    def _name(self, match: re.Match[str]) -> tuple[str, KeyName | None]:
        name = _full_name(match.string, match.start("word"), match.end("word")) if self.keyed else match.group("k")
        return name, classify(name)

    def replace(self, match: re.Match[str]) -> str:
        whole = match.group()
        if self.bounded and not _at_token_start(match.string, match.start()):
            return whole
        kind, word, weak = self.kind, "", False
        if self.keyed or "k" in self.pattern.groupindex:
            word, named = self._name(match)
            if named is None or (self.keyed and word.lower() in _HEADER_NAMES):
                return whole
            kind, weak = named.kind, named.weak
        start, end = match.span()
        group = ""
        for group in self.value_groups:
            if match.start(group) != -1:
                start, end = match.span(group)
                break
        else:
            if self.value_groups:
                return whole
        # An unterminated quote is a text cut short, or a closing quote read as an opening
        # one, as in getpass("Password: "); the second case goes on with a closer.
        if (
            group in _QUOTED_GROUPS
            and match.string[start:end].lstrip()[:1] in _CLOSERS
            and (_CLOSED_QUOTE.match(match.string, end) is None or match.string[start : start + 1] in _STRUCTURAL)
        ):
            return whole
        value = match.string[start:end].rstrip()
        end = start + len(value)
        after = match.string[end : end + 1]
        if not value or (self.accept is not None and not self.accept(value, word, after)):
            return whole
        prose = (
            group == "v4"
            and "sep" in self.pattern.groupindex
            and match.group("sep") == ":"
            and not _QUOTE_CHARS.intersection(match.string[match.end("word") : match.start("sep")])
        )
        if (weak or prose) and not looks_secret(value):
            return whole
        offset = match.start()
        return f"{whole[: start - offset]}[REDACTED:{kind}]{whole[end - offset :]}"


# Header names left to the header rules in text, which know their schemes.
_HEADER_NAMES: Final = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
# In dicts these names hold a secret whatever the value looks like.
_STRONG_DICT_NAMES: Final = frozenset({"auth", "authorization", "proxy-authorization", "cookie", "set-cookie"})
_QUOTE_CHARS: Final = frozenset("\"'")
_WORD_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


def _at_token_start(text: str, index: int) -> bool:
    """True unless a word character is right before ``index`` (an escaped ``\\n``, ``\\r`` or ``\\t`` is fine)."""
    if index == 0 or text[index - 1] not in _WORD_CHARS:
        return True
    return text[index - 1] in "nrt" and index >= 2 and text[index - 2] == "\\"


_NAME_CHARS: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"


def _full_name(text: str, start: int, end: int) -> str:
    """The name around ``text[start:end]``: letters, digits, ``_``, ``.`` and ``-`` on either side
    (up to 64 characters each)."""
    start = max(0, start - 64) + len(text[max(0, start - 64) : start].rstrip(_NAME_CHARS))
    if start > 0 and text[start - 1] == "\\" and text[start] in "nrt":  # an escaped newline: \nDB_PASS
        start += 1
    after = text[end : end + 64]
    return text[start : end + len(after) - len(after.lstrip(_NAME_CHARS))].strip(".-")


def _words(words: Sequence[str]) -> str:
    """An alternation of ``words`` in group ``word``.

    The alternation starts with a case-sensitive class of first letters, so ``re`` can skip
    ahead to candidates instead of trying every alternative at every position.
    """
    by_head: dict[str, list[str]] = {}
    for word in words:
        by_head.setdefault(word[0], []).append(re.escape(word)[len(re.escape(word[0])) :])
    heads = "".join(head.lower() + head.upper() for head in by_head)
    branches = "|".join(f"(?<=[{head.lower()}{head.upper()}])(?:{'|'.join(rests)})" for head, rests in by_head.items())
    return f"(?P<word>(?-i:[{heads}])(?:{branches}))"


def _token(prefix: str, width: int) -> str:
    """``prefix`` (``width`` characters) not preceded by a word character or dash.

    The check is a lookbehind placed after the prefix, so the pattern starts with a literal
    that ``re`` searches for quickly.
    """
    return f"{prefix}(?<![A-Za-z0-9_-].{{{width}}})"


_TEXT_WORDS: Final = _words(STEMS)
# For the scan patterns: any stem, and the rest of a name after it (see _KEY_END).
_STEM: Final = "(?:" + "|".join(map(re.escape, STEMS)) + ")"
_NAME_REST: Final = r"[A-Za-z0-9_-]*(?:\\?[\"'])?\]?"
_PROSE_ALTERNATION: Final = _words(_PROSE_WORDS)
_PROSE_FOR: Final = ("for", "für", "pour", "para", "per", "voor", "dla", "för")
_PROSE_IS: Final = (
    "is", "was", "ist", "lautet", "war", "est", "es", "era", "é", "è", "to", "är", "on", "\uff1a", "是", "为", "は",
    "는",
)  # fmt: skip


def _prose(words: str, literal: Callable[[str], str], closers: str) -> str:
    """The prose rule's pattern: a password word (``words``), maybe ``for <something>``, a verb or colon
    (a verb may have a colon after it), maybe an opening quote, then the value, which stops at a space, a
    quote or one of ``closers``. ``literal`` writes each word and quote."""
    return (
        r"(?<![\w$.-])"
        + words
        + r"(?:[ \t]+(?:" + "|".join(map(literal, _PROSE_FOR)) + r")(?:[ \t]+\S{1,40}){1,3}?)?"
        + r"[ \t]*(?:" + "|".join(map(literal, _PROSE_IS)) + r")(?![\w])[ \t]*(?:" + literal(":") + r"[ \t]*)?"
        + r"[\"'`" + literal("“«") + "]?"
        + r"(?P<v>[^\s\"'`" + closers + r"\\]{4,})"
    )  # fmt: skip


def _as_scanned(text: str) -> str:
    """``text`` as a literal of the Hyperscan pass, which sees each character as its stand-in (see ``_scan``)."""
    return "".join(c if c.isalnum() or c == " " else f"\\x{ord(c):02x}" for c in shadow(text).decode())


# The Hyperscan pass judges the prose rule in any text by its ASCII stand-ins (``contraseña`` is
# ``contraseQa``); the value may then run over a closing quote.
_PROSE_SCAN: Final = _prose("(?:" + "|".join(dict.fromkeys(map(_as_scanned, _PROSE_WORDS))) + ")", _as_scanned, "")

# The rest of the name after its stem; a closing quote and subscript may follow: ['password'].
_KEY_END: Final = r"[A-Za-z0-9_-]{0,40}+(?![A-Za-z0-9_-])(?:\\?[\"'])?\]?"
_STRING_PREFIX: Final = r"(?:[rRbBfFuU]{1,2}(?=\\?[\"']))?"  # f"...", r'...'
_VALUE: Final = (
    _STRING_PREFIX + r"(?:\\\"(?P<v1>(?:[^\"\\\r\n]|\\[^\"\r\n])*)(?:\\\")?"  # \"escaped JSON\"
    r"|\"(?P<v2>(?:[^\"\\\r\n]|\\.)*)\"?"
    r"|'(?P<v3>(?:[^'\\\r\n]|\\.)*)'?"
    r"|(?P<v4>\$?\{\{[^{}\r\n]*\}\}"  # a template: ${{ secrets.X }}, {{ .Values.x }}
    r"|(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}|[^\s\"'`,;&|<>()\[\]{}\\])+))"
)
_VALUE_GROUPS: Final = ("v1", "v2", "v3", "v4")
_QUOTED_GROUPS: Final = ("v1", "v2", "v3")
_CLOSED_QUOTE: Final = re.compile(r"\\?[\"']")
_CLOSERS: Final = ("", ")", "]", "}", ",", ";")
_STRUCTURAL: Final = frozenset(")]},;")  # `"password:"}], "next"`: the quote closed a string, the rest is JSON
# `password: str = "x"`, `token: Optional[str] = None`: a Python or TypeScript annotation.
_ANNOTATION: Final = r":[ \t]*[A-Za-z_][A-Za-z0-9_.]{0,40}(?:\[[^\]\r\n]{0,40}\])?(?:[ \t]*\|[ \t]*None)?[ \t]+="
_PEM_LABEL: Final = r"-----{}[A-Z0-9 ]{{0,40}}PRIVATE KEY(?: BLOCK)?-----"


def _rule(
    kind: str,
    pattern: str,
    flags: int = 0,
    *,
    value: tuple[str, ...] = (),
    keyed: bool = False,
    accept: Callable[[str, str, str], bool] | None = None,
    triggers: _Triggers,
    at_stems: bool = False,
    scan: str | None = None,
    near: Callable[[str, int], object] | None = None,
) -> _Rule:
    scanned = None if scan is None else re.compile(scan, re.IGNORECASE)
    compiled = re.compile(pattern, flags)
    return _Rule(kind, compiled, value, keyed, accept, triggers, at_stems=at_stems, scan=scanned, near=near)


def _vendor_rule(rule: VendorRule) -> _Rule:
    """A vendor rule; its leading boundary check moves into `_Rule.replace`, so that the pattern
    starts with its literal prefix, which ``re`` finds fast."""
    pattern, bounded = rule.pattern, rule.pattern.startswith(TOKEN_START)
    if bounded:
        pattern = pattern[len(TOKEN_START) :]
    value = ("v",) if "(?P<v>" in pattern else ()
    return _Rule(rule.id, re.compile(pattern), value, False, None, (rule.keywords,), bounded)


# Cheap tests at a stem (or line) start, each falsy wherever its rule cannot match there. Their classes
# take what the rules' take ignoring case: ASCII letters stand also for the four letters `re` folds to
# them (Kelvin sign, long s, dotless i, dotted capital I).
_LETTERS: Final = "A-Za-z\u212a\u017f\u0131\u0130"
# A YAML key: indentation, an optional list dash, a name, then ``: `` and a value's first character.
_YAML_AHEAD: Final = re.compile(rf"[ \t]*+(?:-[ \t]+)?[{_LETTERS}0-9_.-]*+[ \t]*+:[ \t]++[^\s\"'{{\[|>&*!#%@`]")
# An assignment: the rest of the name (the stem and at most 40 more characters), an optional closing quote
# and subscript, then ``:`` or ``=``.
_ASSIGNMENT_AHEAD: Final = re.compile(rf"[{_LETTERS}0-9_-]{{0,50}}+(?:\\?[\"'])?+\]?+[ \t]*+[:=]")
_LONG_RUN: Final = re.compile(rf"[{_LETTERS}0-9+/_.-]{{20}}")
_INDENTED_LONG_RUN: Final = re.compile(rf"[ \t]*+[{_LETTERS}0-9+/_.-]{{20}}")
# How far after a stem the entropy rule's run may start on the stem's line, when the stem and the rest of
# its name are shorter than such a run (else they are one): 19 characters, then up to 40 others.
_RUN_REACH: Final = 19 + 40


def _long_run_near(text: str, start: int) -> bool:
    """Whether a run of 20 characters the entropy rule takes starts within its reach of ``start``:
    on the same line, or at the start of the next line after its indentation."""
    newline = text.find("\n", start, start + _RUN_REACH + 2)
    if newline == -1:
        return _LONG_RUN.search(text, start, start + _RUN_REACH + 20) is not None
    return _LONG_RUN.search(text, start, newline) is not None or _INDENTED_LONG_RUN.match(text, newline + 1) is not None


_I: Final = re.IGNORECASE
_BUILTIN_RULES: Final[tuple[_Rule, ...]] = (
    # Shapes. The PEM block goes first: its body may hold anything.
    _rule(
        "private-key",
        _PEM_LABEL.format("BEGIN") + r".*?(?:" + _PEM_LABEL.format("END") + r"|\Z)",
        re.DOTALL,
        triggers=(("-----begin",),),
    ),
    _rule(
        "jwt",
        _token("eyJ", 3) + r"[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*",
        triggers=(("eyj",),),
    ),
    _rule(
        "aws-access-key",
        r"(?:AKIA|ASIA|ABIA|ACCA)(?<![A-Za-z0-9].{4})[A-Z0-9]{16}(?![A-Za-z0-9])",
        triggers=(("akia", "asia", "abia", "acca"),),
    ),
    _rule(
        "github-token",
        r"(?:gh[pousr]_(?<![A-Za-z0-9_].{4})[A-Za-z0-9]{36,255}"
        r"|github_pat_(?<![A-Za-z0-9_].{11})[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])",
        triggers=(("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),),
    ),
    _rule(
        "gitlab-token",
        _token("gl", 2) + r"(?:pat|dt|rt|ptt|cbt|soat|ft|imt|agent|oas)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*",
        triggers=(
            tuple(f"gl{kind}-" for kind in ("pat", "dt", "rt", "ptt", "cbt", "soat", "ft", "imt", "agent", "oas")),
        ),
    ),
    _rule(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9_/-]+)",
        _I,
        value=("v",),
        triggers=(("hooks.slack.com/",),),
    ),
    _rule(
        "slack-token",
        _token("x", 1) + r"(?:ox[abeoprs]-[A-Za-z0-9-]{10,}|app-[0-9]-[A-Za-z0-9-]{10,})",
        triggers=(("xox", "xapp-"),),
    ),
    _rule(
        "stripe-key",
        r"(?:(?:sk|rk)_(?<![A-Za-z0-9_-].{3})(?:live|test)_[A-Za-z0-9]{10,}"
        r"|whsec_(?<![A-Za-z0-9_-].{6})[A-Za-z0-9]{20,})",
        triggers=(("sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"),),
    ),
    _rule("google-api-key", _token("AIza", 4) + r"[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])", triggers=(("aiza",),)),
    _rule("anthropic-key", _token("sk-ant-", 7) + r"[A-Za-z0-9_-]{20,}", triggers=(("sk-ant-",),)),
    _rule(
        "openai-key",
        _token("sk-", 3) + r"(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        accept=_has_digit_or_upper,
        triggers=(("sk-",),),
    ),
    _rule("npm-token", _token("npm_", 4) + r"[A-Za-z0-9]{36}(?![A-Za-z0-9])", triggers=(("npm_",),)),
    _rule("pypi-token", _token("pypi-AgE", 8) + r"[A-Za-z0-9_-]{50,}", triggers=(("pypi-age",),)),
    _rule("huggingface-token", _token("hf_", 3) + r"[A-Za-z0-9]{34,}", triggers=(("hf_",),)),
    *(_vendor_rule(rule) for rule in VENDOR_RULES),
    _rule(  # a private key's DER body without its BEGIN line: RSA, PKCS#8, EC, Ed25519, OpenSSH
        "private-key",
        r"(?<![A-Za-z0-9+/])(?:MII[A-Za-z0-9+/]{3}IBA[AD]|MHcCAQEE|MC4CAQAw|MIGHAgEAMBMG|b3BlbnNzaC1rZXktdjE)"
        r"[A-Za-z0-9+/=]{36,}(?:(?:\r?\n|\\{1,8}n)[ \t]*[A-Za-z0-9+/=]{4,})*",
        triggers=(("miigha", "mii", "mhccaqee", "mc4caqaw", "b3blbnnzac1rzxktdje"),),
        # the start alone: Hyperscan scanned the whole pattern in time growing faster than the text
        scan=r"MII[A-Za-z0-9+/]{3}IBA[AD]|MHcCAQEE|MC4CAQAw|MIGHAgEAMBMG|b3BlbnNzaC1rZXktdjE",
    ),
    _rule(  # a PEM private key, base64-wrapped (kubeconfig client-key-data, Secret data)
        "private-key",
        r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]{20,}(?:(?:\r?\n|\\{1,8}n)[ \t]*[A-Za-z0-9+/=]{4,})*",
        accept=_wraps_private_key,
        triggers=(("ls0tls1crudjti",),),
    ),
    # Command arguments.
    _rule(
        "password",
        r"(?<![A-Za-z0-9_-])(?:-u|--user)(?:[ \t]+|=)[\"']?[^\s:\"'@]{1,64}:(?P<v>[^\s\"'@]+)[\"']?(?!@)",
        value=("v",),
        accept=_names_a_secret,
        triggers=(("-u", "--user"), (":",)),
    ),
    _rule(
        "password",
        r"\b(?:mysql|mysqldump|mysqladmin|mariadb|mysqlimport|mysqlsh)\b[^\r\n|;&]{0,200}?[ \t]-p"
        r"(?P<v>'[^'\r\n]+'|\"[^\"\r\n]+\"|[^\s'\"-][^\s'\"]*)",
        value=("v",),
        accept=_names_a_secret,
        triggers=(("mysql", "mariadb"), ("-p",)),
    ),
    _rule(
        "password",
        r"\b(?:sshpass|redis-cli|docker|podman|nerdctl|helm|oras|skopeo|buildah)\b[^\r\n|;&]{0,200}?"
        r"[ \t](?:-p|-a|--pass)(?:[ \t]+|=|(?=[\"']))(?P<v>'[^'\r\n]+'|\"[^\"\r\n]+\"|[^\s'\"-][^\s'\"]*)",
        value=("v",),
        accept=_names_a_secret,
        triggers=(("sshpass", "redis-cli", "docker", "podman", "nerdctl", "helm", "oras", "skopeo", "buildah"),),
    ),
    _rule(
        "password",
        r"pass:(?P<v>[^\s\"'`]+)",
        value=("v",),
        accept=_names_a_secret,
        triggers=(("pass:",),),
    ),
    _rule(
        "password",
        r"\b(?:echo|printf)[ \t]+(?:-[ne]+[ \t]+)?(?P<v>'[^'\r\n]+'|\"[^\"\r\n]+\"|[^\s|'\"]+)[ \t]*\|[ \t]*"
        r"sudo\b[^\r\n|;&]{0,40}?-[A-Za-z]*S",
        value=("v",),
        triggers=(("echo", "printf"), ("sudo",)),
    ),
    _rule(
        "secret",
        r"--from-literal[= ][^=\s]{1,128}=(?P<v>'[^'\r\n]*'|\"[^\"\r\n]*\"|[^\s'\"]+)",
        value=("v",),
        triggers=(("--from-literal",),),
    ),
    _rule(
        "password",
        r"\bhtpasswd\b(?:[ \t]+-[A-Za-z]+)*[ \t]+-[A-Za-z]*b[A-Za-z]*(?:[ \t]+-[A-Za-z]+)*"
        r"[ \t]+\S+[ \t]+\S+[ \t]+(?P<v>\S+)",
        value=("v",),
        triggers=(("htpasswd",),),
    ),
    _rule(  # .pgpass: host:port:database:user:password
        "password",
        r"^[A-Za-z0-9_.*-]+:(?:\d{1,5}|\*):[^:\s]+:[^:\s]+:(?P<v>\S+)$",
        re.MULTILINE,
        value=("v",),
        accept=_names_a_secret,
        triggers=((":",),),
    ),
    _rule(  # HTTP Digest: the response hash proves the password
        "password",
        r"\b(?:response|cnonce)=\\?\"?(?P<v>[0-9a-fA-F]{16,})",
        value=("v",),
        triggers=(("digest",), ("response=", "cnonce=")),
    ),
    _rule(  # a Kubernetes Secret's data: every value
        "secret",
        r"^[ \t]*(?:data|stringData):[ \t]*\r?\n(?P<v>(?:[ \t]+[^\r\n]*(?:\r?\n|\Z))+)",
        re.MULTILINE,
        value=("v",),
        triggers=(("kind: secret",), ("data:",)),
    ),
    # Names beside values: {"name": "DB_PASS", "value": ...}, <add key="SmtpPassword" value="..."/>,
    # ["X-Auth-Token", "..."], define('DB_PASSWORD', '...').
    _rule(
        "secret",
        r"(?<=[\"'])(?:name|key|header)\\?[\"'][ \t]*[:=][ \t]*\\?[\"'](?P<k>[^\"'\\\r\n]{1,64})\\?[\"'][ \t]*,[ \t]*"
        r"\\?[\"']value\\?[\"'][ \t]*[:=][ \t]*\\?[\"'](?P<v>(?:[^\"'\\\r\n]|\\[^\"'\r\n])*)",
        _I,
        value=("v",),
        accept=_names_a_secret,
        triggers=(("value",),),
    ),
    _rule(
        "secret",
        r"\b(?:key|name)=\\?[\"'](?P<k>[^\"'\\\r\n]{1,64})\\?[\"'][ \t]+value=\\?[\"'](?P<v>[^\"'\\\r\n]*)",
        _I,
        value=("v",),
        accept=_names_a_secret,
        triggers=(("value=",),),
    ),
    _rule(
        "secret",
        r"\[[ \t]*\\?[\"'](?P<k>[A-Za-z0-9_.-]{1,64})\\?[\"'][ \t]*,[ \t]*\\?[\"'](?P<v>[^\"'\\\r\n]+)",
        value=("v",),
        accept=_names_a_secret,
        triggers=(("[",), _KEY_WORD_TRIGGERS),
        # A name that names a secret holds a stem (or is ``sig``): a cheaper pass than the pattern's.
        scan=r"\[[ \t]*\\?[\"'][A-Za-z0-9_.-]*(?:" + _STEM + r"|sig)",
    ),
    _rule(
        "secret",
        r"\bdefine\([ \t]*[\"'](?P<k>[^\"'\r\n]{1,64})[\"'][ \t]*,[ \t]*[\"'](?P<v>[^\"'\r\n]*)",
        _I,
        value=("v",),
        accept=_names_a_secret,
        triggers=(("define(",),),
    ),
    _rule(  # prose: "my password is ...", in several languages
        "password",
        _prose(_PROSE_ALTERNATION, re.escape, "”»"),
        _I,
        value=("v",),
        accept=_prose_password,
        triggers=(_PROSE_WORDS,),
        scan=_PROSE_SCAN,
    ),
    # Context.
    _rule(
        "url-credentials",
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:/?#@\[\]\"'<>]*:"
        r"(?P<v>[^\s/?#\"'<>\[\]]+|[^\s/?#\"'<>\[\]@:]{1,64}(?:/[^\s/?#\"'<>\[\]@:]{1,64}){1,3})@",
        value=("v",),
        accept=_url_password,
        triggers=(("://",), ("@",)),
    ),
    _rule(
        "bearer",
        r"(?-i:[Aa])uthorization(?:\\?[\"'])?[ \t]*[:=][ \t]*" + _STRING_PREFIX + r"(?:\\?[\"'])?"
        r"(?:[A-Za-z][A-Za-z0-9_-]{1,30}[ \t]+)?(?P<v>[^\s\"'\\,;]+)",
        _I,
        value=("v",),
        accept=_header_value_is_secret,
        triggers=(("authorization",), (":", "=")),
    ),
    _rule(  # Bearer outside a header
        "bearer",
        r"(?:Bearer|bearer|BEARER)(?<![A-Za-z0-9_-].{6})[ \t]+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)",
        value=("v",),
        accept=_has_digit,
        triggers=(("bearer",),),
    ),
    _rule(
        "cookie",
        r"(?-i:[CcSs])(?:(?<=[Cc])ookie(?<![A-Za-z0-9_-].{6})|(?<=[Ss])et-cookie(?<![A-Za-z0-9_-].{10}))"
        r"(?:\\?[\"'])?[ \t]*:[ \t]*(?:\\?[\"'])?(?P<v>[^\r\n\"'\\]+)",
        _I,
        value=("v",),
        accept=_names_a_secret,
        triggers=(("cookie",), (":",)),
    ),
    _rule(
        "password",
        _token("login", 5) + r"\s+\S+\s+password[ \t]+(?P<v>\S+)",  # .netrc
        value=("v",),
        accept=_names_a_secret,
        triggers=(("login",), ("password",)),
    ),
    # Key words, whose kind picks the marker: <password>v</password>, --password v, YAML, inline.
    _rule(
        "secret",
        r"<[A-Za-z0-9_.:-]{0,64}?" + _TEXT_WORDS + r"[A-Za-z0-9_.-]{0,40}+>(?P<v>[^<]+)</",
        _I,
        value=("v",),
        keyed=True,
        accept=_names_a_secret,
        triggers=(_KEY_WORD_TRIGGERS, ("</",)),
        scan=r"<[A-Za-z0-9_.:-]*" + _STEM + r"[A-Za-z0-9_.-]*>[^<]+</",
    ),
    _rule(
        "secret",
        _token("--", 2) + r"(?:[A-Za-z0-9]+[-_]){0,4}?" + _TEXT_WORDS + _KEY_END + r"[ \t]+(?!-)" + _VALUE,
        _I,
        value=_VALUE_GROUPS,
        keyed=True,
        accept=_names_a_secret,
        triggers=(_KEY_WORD_TRIGGERS, ("--",)),
        scan=r"--[A-Za-z0-9_-]*" + _STEM + _NAME_REST + r"[ \t]+",
    ),
    _rule(
        "secret",
        r"^[ \t]*(?:-[ \t]+)?[A-Za-z0-9_.-]{0,64}?"
        + _TEXT_WORDS
        + r"[A-Za-z0-9_-]{0,40}+(?![A-Za-z0-9_-])[ \t]*:[ \t]+"
        r"(?P<v>[^\s\"'{\[|>&*!#%@`][^\r\n]*)",
        _I | re.MULTILINE,
        value=("v",),
        keyed=True,
        accept=_yaml_value_is_secret,
        triggers=(_KEY_WORD_TRIGGERS, (":",)),
        at_stems=True,
        scan=_STEM + r"[A-Za-z0-9_-]*[ \t]*:[ \t]+[^\s\"'{\[|>&*!#%@`]",
        near=_YAML_AHEAD.match,
    ),
    _rule(
        "secret",
        _TEXT_WORDS + _KEY_END + r"[ \t]*(?:" + _ANNOTATION + r"|:=|=>|={1,3}|(?P<sep>:))[ \t]*" + _VALUE,
        _I,
        value=_VALUE_GROUPS,
        keyed=True,
        accept=_names_a_secret,
        triggers=(_KEY_WORD_TRIGGERS, (":", "=")),
        at_stems=True,
        scan=_STEM + _NAME_REST + r"[ \t]*[:=]",
        near=_ASSIGNMENT_AHEAD.match,
    ),
    _rule(  # a long random-looking run shortly after a secret word
        "secret",
        _TEXT_WORDS + r"[A-Za-z0-9_-]{0,40}+[^\r\n]{0,40}?(?:\r?\n[ \t]*)?(?<![A-Za-z0-9+/_=.\\-])"
        r"(?P<v>[A-Za-z0-9+/_.-]{20,}={0,2})",
        _I,
        value=("v",),
        keyed=True,
        accept=_high_entropy,
        triggers=(_KEY_WORD_TRIGGERS,),
        at_stems=True,
        scan=_STEM + r"[^\r\n]*(?:\r?\n[ \t]*)?[A-Za-z0-9+/_.-]{20}",
        near=_long_run_near,
    ),
    _rule(  # a long hex run right after a secret word, on its line (further off it is a commit or digest)
        "secret",
        _TEXT_WORDS
        + r"[A-Za-z0-9_-]{0,40}+[^\r\n\\]{1,16}?(?<![A-Za-z0-9+/_=-])(?P<v>[0-9a-fA-F]{32,})(?![A-Za-z0-9+/_=-])",
        _I,
        value=("v",),
        keyed=True,
        accept=_high_entropy_hex,
        triggers=(_KEY_WORD_TRIGGERS,),
        at_stems=True,
        scan=_STEM + r"[^\r\n]*[0-9a-fA-F]{32}",
    ),
)

# The pre-filter. A rule runs on a text only when the folded text holds its triggers. Every piece a
# rule sees is a part of the original text (markers are split off), so one look at the original text
# is enough. Folding maps every character that a pattern's literal letter matches, with or without
# IGNORECASE, to that letter: ASCII letters to lower case, and the four non-ASCII letters that `re`
# matches to ASCII ones under IGNORECASE (Kelvin sign K, long s, dotless i, dotted capital I), before
# lower() could turn the dotted I into two characters.
_FOLD: Final = (("\u212a", "k"), ("\u017f", "s"), ("\u0131", "i"), ("\u0130", "i"))


def _fold(text: str) -> str:
    if not text.isascii():
        for letter, ascii_letter in _FOLD:
            if letter in text:
                text = text.replace(letter, ascii_letter)
    return text.lower()


def _trie(literals: Sequence[str]) -> str:
    """A pattern that finds any of ``literals``, as a trie: ``re`` then tries one branch per character."""
    tree: dict[str, Any] = {}
    for literal in literals:
        node = tree
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        if "" in node:  # a literal ends here: whatever follows is not needed
            return ""
        alternatives = [re.escape(char) + branch(child) for char, child in sorted(node.items())]
        return alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"

    return branch(tree)


# Any first-clause literal of a built-in rule: a text without one needs no built-in rule at all.
_ANY_TRIGGER: Final = re.compile(
    _trie(sorted({literal for rule in _BUILTIN_RULES if rule.triggers for literal in rule.triggers[0]}))
)


_JSON_OPENERS: Final = frozenset("{[")


def _looks_like_json(text: str) -> bool:
    """True when ``text`` may be a JSON object or array: ``{...}`` or ``[...]``, outer spaces aside."""
    head, tail = text[:1], text[-1:]
    return (head == "{" and tail == "}") or (head == "[" and tail == "]" and len(text) > 2)


# The built-in rules' patterns in one Hyperscan database, compiled (a fraction of a second) when the first
# text of _SCAN_FROM characters or more comes, so that a process that only redacts a few log lines never
# compiles it. From then on every text is scanned with it, whatever its length. Hyperscan runs some
# patterns slower than linearly (an alternation followed by a long run, as the DER key rule had): such a
# rule scans for its start alone.
_SCAN_FROM: Final = 256
_RULE_SCAN: Final[list[RuleScan]] = []
_RULE_SCAN_LOCK: Final = threading.Lock()


def _new_rule_scan() -> RuleScan:
    """The Hyperscan pass: each rule's scan pattern (or its pattern), and the stems."""
    return RuleScan([rule.scan or rule.pattern for rule in _BUILTIN_RULES], STEMS)


def _rule_scan(text: str) -> RuleScan | None:
    """The rule scan for ``text``, or None without Hyperscan, or for a short text while the scan is not
    compiled."""
    if not SCAN_AVAILABLE:
        return None
    if not _RULE_SCAN:
        if len(text) < _SCAN_FROM:
            return None
        with _RULE_SCAN_LOCK:
            if not _RULE_SCAN:
                _RULE_SCAN.append(_new_rule_scan())
    return _RULE_SCAN[0]


@functools.cache
def _stem_scan() -> RuleScan:
    """A Hyperscan pass for the stems alone (for the pieces a marker leaves)."""
    return RuleScan([], STEMS)


def _scanned(scan: RuleScan, text: str) -> tuple[set[int], list[int]]:
    """The built-in rules that may match ``text`` (those the scan cannot judge, by their trigger literals)
    and where its stems start."""
    found, starts = scan.scan(text)
    unchecked = scan.always if text.isascii() else scan.always + scan.unicode
    if unchecked:
        folded = _fold(text)
        found.update(index for index in unchecked if _triggered(_BUILTIN_RULES[index], folded))
    return found, starts


def _triggered(rule: _Rule, folded: str) -> bool:
    """True when ``folded`` holds a literal of each of the rule's trigger clauses."""
    return all(any(literal in folded for literal in clause) for clause in rule.triggers or ())


def _line_starts(text: str, offsets: list[int]) -> list[int]:
    """The starts of the lines that hold the sorted ``offsets``, each once; each newline is looked for once."""
    lines: list[int] = []
    line = searched = 0
    for offset in offsets:
        newline = text.rfind("\n", searched, offset)
        if newline != -1:
            line = newline + 1
        searched = offset
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


# Where stems start in the texts scanned so far, by id (each entry holds its text, so the id stays its own).
_StemMemo = dict[int, tuple[str, list[int]]]


def _subn_at_stems(rule: _Rule, text: str, memo: _StemMemo) -> tuple[str, int]:
    """``rule.pattern.subn(rule.replace, text)`` for a rule whose every match starts at a stem (or, for a
    pattern anchored with ``^``, at the start of a line that holds one): the pattern is tried only there,
    instead of at every position. ``memo`` keeps each text's stem starts for the next such rule."""
    known = memo.get(id(text))
    if known is None:  # a piece left by a marker: only its stems are needed
        known = memo[id(text)] = (text, _stem_scan().scan(text)[1])
    starts = known[1]
    if rule.pattern.pattern.startswith("^"):
        starts = _line_starts(text, starts)
    near = rule.near
    out: list[str] = []
    last = count = 0
    for start in starts:
        if start < last or (near is not None and not near(text, start)):
            continue
        match = rule.pattern.match(text, start)
        if match is None:
            continue
        out.append(text[last:start])
        out.append(rule.replace(match))
        last = match.end()
        count += 1
    if not count:
        return text, 0
    out.append(text[last:])
    return "".join(out), count


def _custom_rule(pattern: str) -> _Rule:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid redact pattern {pattern!r}: {error}") from None
    return _Rule("custom", compiled, ("secret",) if "secret" in compiled.groupindex else ())


@functools.lru_cache(maxsize=4096)
def _key_kind(key: str) -> str | None:
    """The kind of secret a dict key names, with a ``?`` when the value must look secret too; or None."""
    named = classify(key)
    if named is None:
        return None
    return named.kind + "?" if named.weak and key.lower() not in _STRONG_DICT_NAMES else named.kind


_PLAIN_KEY: Final = (None, False, False)


_KeyFacts = tuple[str | None, bool, bool]
# Dict keys repeat from event to event: their facts are kept (up to _MAX_KEY_FACTS keys, then forgotten).
_KEY_FACTS: Final[dict[str, _KeyFacts | None]] = {}
_MAX_KEY_FACTS: Final = 4096


def _key_facts(key: str) -> _KeyFacts | None:
    """For a dict key: the kind of secret it names, whether a built-in text rule may match it, and
    whether it is ``value`` (whose kind a sibling ``name`` may give); None for a key that is none of
    these (``_PLAIN_KEY``). ``_KEY_FACTS`` keeps the answer."""
    facts: _KeyFacts | None = (_key_kind(key), _ANY_TRIGGER.search(_fold(key)) is not None, key.lower() == "value")
    if facts == _PLAIN_KEY:
        facts = None
    if len(_KEY_FACTS) >= _MAX_KEY_FACTS:
        _KEY_FACTS.clear()
    _KEY_FACTS[key] = facts
    return facts


def _header_pair_kind(sequence: Sequence[object]) -> str | None:
    """``["X-Auth-Token", "..."]``: a pair whose first item names a secret gives the second its kind."""
    if len(sequence) == 2 and isinstance(sequence[0], str) and isinstance(sequence[1], str) and len(sequence[0]) <= 64:
        return _key_kind(sequence[0])
    return None


def _pair_kind(mapping: dict[Any, Any]) -> str | None:
    """``{"name": "DB_PASSWORD", "value": "..."}``: the kind the name gives the value."""
    for key, name in mapping.items():
        if isinstance(key, str) and key.lower() in ("name", "key") and isinstance(name, str):
            return _key_kind(name)
    return None


# The key sets (in order) of dicts of up to _MAX_SHAPE_KEYS keys whose every key is plain: it names no secret,
# is not ``value``, and the built-in rules leave it as it is. The walk copies such a dict's keys as they are
# (without extra patterns, which may redact any key). Hook inputs repeat a few sets; up to _MAX_PLAIN_SHAPES
# are kept, then forgotten.
_PLAIN_SHAPES: Final[set[tuple[object, ...]]] = set()
_MAX_PLAIN_SHAPES: Final = 1024
_MAX_SHAPE_KEYS: Final = 32

# The walk recurses this deep at most, then goes on with a stack of its own.
_MAX_RECURSION: Final = 50
_Memo = dict[tuple[int, "str | None"], object]
# The short text values a walk left in place, to be redacted together, flat: container, slot, text, ...
_Short = list[Any]


class Redactor:
    """The built-in rules plus extra patterns from configuration, compiled once.

    An extra pattern's match becomes ``[REDACTED:custom]``; when the pattern has a group
    named ``secret``, only that group is replaced. Extra patterns run after the built-in
    rules. An invalid one raises ValueError naming it.

    Built-in rules run only on text they may match (see ``_scan``), and :meth:`redact` hands
    every string that is not a secret's value to :meth:`redact_text`: a subclass may override
    ``redact_text`` only with an equivalent, such as a memo of it.
    """

    __slots__ = ("_custom", "_rules")

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        if isinstance(extra_patterns, str):
            raise TypeError("extra_patterns is a sequence of regular expressions, not one string")
        self._custom = tuple(_custom_rule(pattern) for pattern in extra_patterns)
        self._rules = _BUILTIN_RULES + self._custom

    def redact_text(self, text: str) -> str:
        """``text`` with every secret found replaced by its marker. A text that is a JSON object or
        array (an MCP result, a tool's JSON output) is first redacted as the structure it holds, which
        sees through its escapes, then as text."""
        if _looks_like_json(text):
            nested = self._redact_json(text)
            if nested is not None:
                text = nested
        return self._redact_plain(text)

    def _redact_plain(self, text: str) -> str:
        scan = _rule_scan(text)
        stems = None  # without the scan, the keyword rules are tried everywhere
        if scan is not None:  # one Hyperscan pass names the rules that may match, and finds the stems
            found, starts = _scanned(scan, text)
            stems = {id(text): (text, starts)}
            chosen = [_BUILTIN_RULES[index] for index in sorted(found)]
        else:  # the rules whose trigger literals the folded text holds
            folded = _fold(text)
            chosen = [] if _ANY_TRIGGER.search(folded) is None else [r for r in _BUILTIN_RULES if _triggered(r, folded)]
        if not chosen and not self._custom:
            return text
        return self._apply(text, [*chosen, *self._custom], stems)

    def _redact_text_with_every_rule(self, text: str) -> str:
        """:meth:`redact_text` without the pre-filter: every rule runs (the reference for tests)."""
        if _looks_like_json(text):
            nested = self._redact_json(text)
            if nested is not None:
                text = nested
        return self._apply(text, self._rules)

    def _redact_json(self, text: str) -> str | None:
        """``text`` parsed as JSON, redacted as a structure and written back (``text`` itself when
        nothing changed); None when it is no JSON object or array."""
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, (dict, list)):
            return None
        redacted = self.redact(value)
        if redacted == value:
            return text
        try:
            return json.dumps(redacted, ensure_ascii=False)
        except (ValueError, RecursionError):
            return None

    @staticmethod
    def _apply(text: str, rules: Sequence[_Rule], stems: _StemMemo | None = None) -> str:
        """``text`` with ``rules`` applied in order, each to the text between the markers so far. ``stems``
        holds where stems start in the texts already scanned (it is filled for the pieces as they come);
        without it, every rule is tried at every position."""
        if not rules:
            return text
        pieces = _MARKER_SPLIT.split(text) if "[REDACTED:" in text else [text]  # even: text, odd: markers
        for rule in rules:
            out: list[str] = []
            for index, piece in enumerate(pieces):
                if index % 2 or not piece:
                    out.append(piece)
                    continue
                if rule.at_stems and stems is not None:
                    new, count = _subn_at_stems(rule, piece, stems)
                else:
                    new, count = rule.pattern.subn(rule.replace, piece)
                if count and new != piece:
                    out.extend(_MARKER_SPLIT.split(new))
                else:
                    out.append(piece)
            pieces = out
        return "".join(pieces)

    @overload
    def redact(self, value: str) -> str: ...
    @overload
    def redact(self, value: dict[str, Any]) -> dict[str, Any]: ...
    @overload
    def redact(self, value: list[Any]) -> list[Any]: ...
    @overload
    def redact(self, value: object) -> object: ...
    def redact(self, value: object) -> object:
        """A redacted copy of JSON-like ``value``.

        A string under a dict key that names a secret becomes ``[REDACTED:<kind>]`` whole;
        every other string is redacted as text, dict keys included. Depth is no limit (past
        a few levels the walk goes on without recursion); shared and cyclic containers are
        copied once. When redacted dict keys collide, the first one's value is kept.
        """
        if isinstance(value, str):
            return self.redact_text(value)
        short: _Short = []
        copy = self._copy(value, None, {}, short, 0)
        self._redact_short(short)
        return copy

    def _redact_short(self, short: _Short) -> None:
        """Redacts the short text values a walk left in place, when :meth:`_may_need_redaction` says any may
        need it; most often none does, and none is looked at alone."""
        if short and self._may_need_redaction(short[2::3]):
            self._redact_each(short)

    def _redact_each(self, short: _Short) -> None:
        """Puts each of the short text values ``short`` lists, redacted as text, in its place."""
        for container, slot, text in zip(short[::3], short[1::3], short[2::3], strict=True):
            container[slot] = self.redact_text(text)

    def _may_need_redaction(self, texts: Sequence[str]) -> bool:
        """False when one Hyperscan pass over ``texts`` joined (compiled on the first join of `_SCAN_FROM`
        characters or more) finds that no rule may match any of them: each is a part of the joined text,
        and the scan patterns have no anchors. True without the scan, or with extra patterns."""
        if self._custom:
            return True
        joined = "\n\n".join(texts)
        scan = _rule_scan(joined)
        return scan is None or bool(_scanned(scan, joined)[0])

    def _copy(self, item: object, kind: str | None, memo: _Memo, short: _Short, depth: int) -> object:
        """The copy of ``item``, recursing while ``depth`` is below _MAX_RECURSION. Dict keys and
        secret values are redacted as secrets, other strings as text: at once when long or JSON,
        else later, together (``short`` lists them with their places)."""
        if isinstance(item, str):
            if kind is not None:
                return self._redact_string(item, kind)
            return self.redact_text(item)
        if isinstance(item, dict):
            memo_key: tuple[int, str | None] = (id(item), None)
        elif isinstance(item, (list, tuple)):
            memo_key = (id(item), kind)
        else:
            return item
        found = memo.get(memo_key)
        if found is not None:
            return found
        if depth >= _MAX_RECURSION:
            return self._walk(item, kind, memo)
        depth += 1
        if isinstance(item, dict):
            custom = bool(self._custom)
            shape = tuple(item) if len(item) <= _MAX_SHAPE_KEYS and not custom else None
            if shape in _PLAIN_SHAPES:  # its keys stay: only its values are looked at
                plain_copy: dict[object, object] = dict(item)
                memo[memo_key] = plain_copy
                self._fill(plain_copy, item.items(), None, memo, short, pair_kind=None, depth=depth)
                return plain_copy
            mapping: dict[object, object] = {}
            memo[memo_key] = mapping
            renamed = False  # whether a key was redacted: a later key may then meet it
            plain = True  # whether every key so far is plain (see _PLAIN_SHAPES)
            for key, element in item.items():
                new_key, element_kind = key, None
                if isinstance(key, str):
                    facts = _KEY_FACTS.get(key, _PLAIN_KEY)
                    if facts is _PLAIN_KEY:  # not known yet
                        facts = _key_facts(key)
                    if facts is not None or custom:
                        element_kind, triggered, is_value = facts or _PLAIN_KEY
                        if element_kind is None and is_value:
                            element_kind = _pair_kind(item)
                        if triggered or custom:
                            new_key = self.redact_text(key)
                            renamed = renamed or new_key != key
                        plain = plain and element_kind is None and not is_value and new_key == key
                    if renamed and new_key in mapping:  # a redacted key met again: the first value stays
                        continue
                if isinstance(element, str):
                    if element_kind is not None:
                        mapping[new_key] = self._redact_string(element, element_kind)
                    elif len(element) < _SCAN_FROM and element[:1] not in _JSON_OPENERS:
                        mapping[new_key] = element
                        short += (mapping, new_key, element)
                    else:
                        mapping[new_key] = self.redact_text(element)
                elif isinstance(element, (dict, list, tuple)):
                    mapping[new_key] = self._copy(element, element_kind, memo, short, depth)
                else:
                    mapping[new_key] = element
            if plain and shape is not None:
                if len(_PLAIN_SHAPES) >= _MAX_PLAIN_SHAPES:
                    _PLAIN_SHAPES.clear()
                _PLAIN_SHAPES.add(shape)
            return mapping
        sequence = cast("list[object] | tuple[object, ...]", item)
        copy: list[object] = list(sequence)  # what needs no redaction stays as it is
        memo[memo_key] = copy
        pair_kind = _header_pair_kind(sequence) if kind is None else None
        self._fill(copy, enumerate(sequence), kind, memo, short, pair_kind=pair_kind, depth=depth)
        return copy

    def _fill(
        self,
        copy: Any,
        slots: Iterable[tuple[Any, object]],
        kind: str | None,
        memo: _Memo,
        short: _Short,
        *,
        pair_kind: str | None,
        depth: int,
    ) -> None:
        """Puts the redacted copy of each ``(slot, value)`` of a list, or of a dict whose keys are all plain,
        into ``copy`` (which holds the values as they are): strings of ``kind`` as secrets (slot 1 of a
        header pair as ``pair_kind``), other long or JSON strings as text, short ones later (``short``)."""
        for slot, element in slots:
            if isinstance(element, str):
                if slot == 1 and pair_kind is not None:
                    copy[slot] = self._redact_string(element, pair_kind)
                elif kind is not None:
                    copy[slot] = self._redact_string(element, kind)
                elif len(element) < _SCAN_FROM and element[:1] not in _JSON_OPENERS:
                    short += (copy, slot, element)
                else:
                    copy[slot] = self.redact_text(element)
            elif isinstance(element, (dict, list, tuple)):
                copy[slot] = self._copy(element, kind, memo, short, depth)

    def _walk(self, value: object, kind: str | None, memo: _Memo) -> object:
        """The redacted copy of ``value``, walked with a stack instead of recursion."""
        root: list[object] = [None]
        stack: list[tuple[object, dict[object, object] | list[object], object, str | None]]
        stack = [(value, root, 0, kind)]
        while stack:
            item, parent, slot, kind = stack.pop()
            new: object
            if isinstance(item, str):
                new = self._redact_string(item, kind)
            elif isinstance(item, (dict, list, tuple)):
                memo_key = (id(item), None if isinstance(item, dict) else kind)
                if memo_key in memo:
                    new = memo[memo_key]
                elif isinstance(item, dict):
                    new = memo[memo_key] = self._push_dict(item, stack)
                else:
                    copy: list[object] = [None] * len(item)
                    new = memo[memo_key] = copy
                    stack.extend((element, copy, index, kind) for index, element in enumerate(item))
                    pair_kind = _header_pair_kind(item) if kind is None else None
                    if pair_kind is not None:  # as in `_copy`: the pair's second item, a string, has its kind
                        stack[-1] = (item[1], copy, 1, pair_kind)
            else:
                new = item
            if isinstance(parent, list):
                parent[cast(int, slot)] = new
            else:
                parent[slot] = new
        return root[0]

    def _push_dict(
        self,
        mapping: dict[Any, Any],
        stack: list[tuple[object, dict[object, object] | list[object], object, str | None]],
    ) -> dict[object, object]:
        copy: dict[object, object] = {}
        pair_kind = _pair_kind(mapping)
        for key, element in mapping.items():
            kind = None
            new_key = key
            if isinstance(key, str):
                kind = _key_kind(key)
                if kind is None and pair_kind is not None and key.lower() == "value":
                    kind = pair_kind
                new_key = self.redact_text(key)
            copy[new_key] = None  # keeps the key order; the stack fills the value in
            stack.append((element, copy, new_key, kind))
        return copy

    def _redact_string(self, text: str, kind: str | None) -> str:
        if kind is None:
            return self.redact_text(text)
        if not text or _MARKER.fullmatch(text):
            return text
        if kind[-1] == "?":
            return f"[REDACTED:{kind[:-1]}]" if looks_secret(text) else self.redact_text(text)
        shaped = self.redact_text(text)  # a token with a shape keeps its own kind: [REDACTED:jwt]
        return shaped if _MARKER.fullmatch(shaped) else f"[REDACTED:{kind}]"


@functools.lru_cache(maxsize=32)
def _redactor(extra_patterns: tuple[str, ...]) -> Redactor:
    return Redactor(extra_patterns)


@overload
def redact(value: str, extra_patterns: Sequence[str] = ()) -> str: ...
@overload
def redact(value: dict[str, Any], extra_patterns: Sequence[str] = ()) -> dict[str, Any]: ...
@overload
def redact(value: list[Any], extra_patterns: Sequence[str] = ()) -> list[Any]: ...
@overload
def redact(value: object, extra_patterns: Sequence[str] = ()) -> object: ...
def redact(value: object, extra_patterns: Sequence[str] = ()) -> object:
    """:meth:`Redactor.redact` with a cached Redactor for ``extra_patterns``."""
    if isinstance(extra_patterns, str):
        raise TypeError("extra_patterns is a sequence of regular expressions, not one string")
    return _redactor(tuple(extra_patterns)).redact(value)
