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

Kinds, from the most specific to the least:

- whole tokens recognised by shape: ``private-key`` (a PEM block from BEGIN to END, or to
  the end of the string when END is missing), ``jwt``, ``aws-access-key``,
  ``github-token``, ``gitlab-token``, ``slack-webhook``, ``slack-token``, ``stripe-key``,
  ``google-api-key``, ``anthropic-key``, ``openai-key``, ``npm-token``, ``pypi-token``,
  ``huggingface-token``;
- values recognised by context: ``url-credentials`` (the password of
  ``scheme://user:password@host``), ``bearer`` (an Authorization header value after its
  scheme, or ``Bearer <token>`` anywhere), ``cookie`` (a Cookie or Set-Cookie header value),
  and assignments whose key names a secret: ``password``, ``secret``, ``token``, ``api-key``,
  ``aws-secret-key``, ``private-key``, ``credentials``;
- dict keys that name a secret also give ``authorization`` (auth, authorization) and
  ``cookie``;
- ``custom``: a match of an extra pattern from configuration.

Decisions on near misses:

- A key names a secret when its last word does: ``DB_PASSWORD``, ``clientSecret``,
  ``x-api-key`` and ``csrftoken`` do; ``max_tokens``, ``token_count``, ``tokenizer``,
  ``passwordless`` and ``secret_name`` do not. ``eos_token`` and its tokenizer siblings are
  not secrets either. A bare ``auth``, ``authorization`` or ``cookie`` names a secret only as
  a dict key; in text those are handled by the header rules.
- In dicts, a string under a secret key is replaced whole, also inside a list under that
  key; numbers, booleans, None and empty strings are kept. ``{"name": "DB_PASSWORD",
  "value": "..."}`` pairs count the name as the key of the value. Dict keys are redacted as
  text too.
- In text, an assignment (``k=v``, ``k: v``, ``"k": "v"``, ``['k'] = v``, ``k := v``,
  ``k => v``, ``k == v``, ``k: str = v``, ``--k v``, ``<k>v</k>``) keeps the key, separator,
  quotes and string prefix (``f"..."``). An unquoted value stops at whitespace, quotes or
  ``,;&|<>()[]{}``; at the start of a line, ``k: value`` is YAML and the value runs to the
  end of the line. A quoted value may lack its closing quote (a text cut short), unless it
  goes on with a closer, as the ``")`` of ``getpass("Password: ")`` does.
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
- Known misses, for want of a shape or a key: an AWS secret key, an opaque token or a PEM
  body without its BEGIN line, standing alone; ``mysql -pSECRET``; ``user:pass@host``
  without a scheme. Git SHAs, UUIDs, digests and base64 blobs are kept for the same reason.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, cast, overload

__all__ = ["Redactor", "redact"]

_MARKER_SPLIT: Final = re.compile(r"(\[REDACTED:[a-z0-9-]+\])")
_MARKER: Final = re.compile(r"\[REDACTED:[a-z0-9-]+\]")

# A key's last word(s) that name a secret, in matching order (longer first). "_" stands for
# "_", "-" or nothing; case is ignored, so "api_key" covers API_KEY, api-key, apikey and apiKey.
_KEY_WORDS: Final[tuple[tuple[str, str], ...]] = (
    ("aws_secret_access_key", "aws-secret-key"),
    ("secret_access_key", "aws-secret-key"),
    ("aws_secret_key", "aws-secret-key"),
    ("private_key", "private-key"),
    ("secret_key", "secret"),
    ("signing_key", "secret"),
    ("encryption_key", "secret"),
    ("api_key", "api-key"),
    ("access_key", "api-key"),
    ("account_key", "api-key"),
    ("password", "password"),
    ("passwd", "password"),
    ("passphrase", "password"),
    ("secret", "secret"),
    ("token", "token"),
    ("credentials", "credentials"),
    ("credential", "credentials"),
)
# Words that name a secret only as a dict key; in text the header rules cover them.
_DICT_KEY_WORDS: Final[tuple[tuple[str, str], ...]] = (
    *_KEY_WORDS,
    ("authorization", "authorization"),
    ("auth", "authorization"),
    ("cookie", "cookie"),
)

# Tokenizer special tokens are not secrets: eos_token="</s>".
_SPECIAL_TOKEN_PREFIX: Final = re.compile(r"(?:eos|bos|pad|unk|sep|cls|mask|stop)[_-]?\Z", re.IGNORECASE)
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
_CAMEL_BOUNDARY: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_KEY_SEPARATORS: Final = re.compile(r"[-.\s]+")
_FIRST_WORD: Final = re.compile(r"[^\s=|,(\[]*")
_HTTP_SCHEMES: Final = frozenset({"bearer", "basic", "token", "bot", "digest", "negotiate", "ntlm", "apikey"})


def _snake(name: str) -> str:
    """``apiKey`` -> ``api_key``, ``X-Api-Key`` -> ``x_api_key``."""
    return _KEY_SEPARATORS.sub("_", _CAMEL_BOUNDARY.sub("_", name)).lower()


def _is_key(name: str, word: str) -> bool:
    """``db_password`` and ``password`` are keys for the word ``password``; ``mypassword`` is not."""
    name, word = _snake(name), _snake(word)
    return name == word or name.endswith("_" + word)


def _names_a_secret(value: str, word: str, after: str = "") -> bool:
    """False for values that only name or point at a secret instead of holding one: null and
    type words, masks, references, and code (``self.token``, ``getpass()``, ``os.environ[...]``).
    ``after`` is the character that follows the value."""
    if value.lower() in _NOT_SECRETS or _MASK.fullmatch(value) or _REFERENCE.fullmatch(value):
        return False
    if _IDENTIFIER_PATH.fullmatch(value):
        if after in ("(", "["):
            return False
        if word and "." in value and any(_is_key(part, word) for part in value.split(".")):
            return False
    return not (word and _FILE_PATH.fullmatch(value) and _is_key(value.rsplit("/", 1)[-1], word))


def _yaml_value_is_secret(value: str, word: str, after: str) -> bool:
    """A YAML value whose first word is no secret is left to the inline rule (``token: str = x``)."""
    first = _FIRST_WORD.match(value)
    return _names_a_secret(first.group() if first else value, word) and _names_a_secret(value, word)


def _header_value_is_secret(value: str, word: str, after: str) -> bool:
    return value.lower() not in _HTTP_SCHEMES and _names_a_secret(value, word)


def _has_digit(value: str, word: str, after: str) -> bool:
    return any(c.isdigit() for c in value)


def _has_digit_or_upper(value: str, word: str, after: str) -> bool:
    return any(c.isdigit() or c.isupper() for c in value)


@dataclass(frozen=True)
class _Rule:
    """One pattern. Without value groups the whole match is the secret; with them, the
    first group that took part is, and the rest of the match is kept. ``kind_groups`` name
    the groups that pick the kind from the key word that matched."""

    kind: str
    pattern: re.Pattern[str]
    value_groups: tuple[str, ...] = ()
    kind_groups: tuple[tuple[str, str], ...] = ()
    accept: Callable[[str, str, str], bool] | None = None

    def replace(self, match: re.Match[str]) -> str:
        whole = match.group()
        kind, word, word_start = self.kind, "", match.start()
        for group, group_kind in self.kind_groups:
            if match.start(group) != -1:
                kind, word, word_start = group_kind, match.group("word"), match.start("word")
                break
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
            and _CLOSED_QUOTE.match(match.string, end) is None
            and match.string[start:end].lstrip()[:1] in _CLOSERS
        ):
            return whole
        value = match.string[start:end].rstrip()
        end = start + len(value)
        after = match.string[end : end + 1]
        if not value or (self.accept is not None and not self.accept(value, word, after)):
            return whole
        if kind == "token" and _SPECIAL_TOKEN_PREFIX.search(match.string, max(0, word_start - 5), word_start):
            return whole
        offset = match.start()
        return f"{whole[: start - offset]}[REDACTED:{kind}]{whole[end - offset :]}"


def _words(table: Sequence[tuple[str, str]], joiner: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """An alternation of key words in group ``word``, with an empty group ``kN`` closing each
    word, and the group -> kind table.

    The alternation starts with a case-sensitive class of first letters, so ``re`` can skip
    ahead to candidates instead of trying every alternative at every position.
    """
    by_head: dict[str, list[str]] = {}
    for i, (word, _) in enumerate(table):
        rest = joiner.join(map(re.escape, word.split("_")))[1:]
        by_head.setdefault(word[0], []).append(f"{rest}(?P<k{i}>)")
    heads = "".join(head.lower() + head.upper() for head in by_head)
    branches = "|".join(f"(?<=[{head.lower()}{head.upper()}])(?:{'|'.join(rests)})" for head, rests in by_head.items())
    groups = tuple((f"k{i}", kind) for i, (_, kind) in enumerate(table))
    return f"(?P<word>(?-i:[{heads}])(?:{branches}))", groups


def _token(prefix: str, width: int) -> str:
    """``prefix`` (``width`` characters) not preceded by a word character or dash.

    The check is a lookbehind placed after the prefix, so the pattern starts with a literal
    that ``re`` searches for quickly.
    """
    return f"{prefix}(?<![A-Za-z0-9_-].{{{width}}})"


_TEXT_WORDS, _TEXT_KIND_GROUPS = _words(_KEY_WORDS, "[_-]?")
_DICT_WORDS_SOURCE, _DICT_KIND_GROUPS = _words(_DICT_KEY_WORDS, "_?")
_DICT_WORDS: Final = re.compile(_DICT_WORDS_SOURCE + r"\Z", re.IGNORECASE)

# The key word is the key's last word; a closing quote and subscript may follow: ['password'].
_KEY_END: Final = r"(?![A-Za-z0-9_-])(?:\\?[\"'])?\]?"
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
) -> _Rule:
    return _Rule(kind, re.compile(pattern, flags), value, _TEXT_KIND_GROUPS if keyed else (), accept)


_I: Final = re.IGNORECASE
_BUILTIN_RULES: Final[tuple[_Rule, ...]] = (
    # Shapes. The PEM block goes first: its body may hold anything.
    _rule(
        "private-key",
        _PEM_LABEL.format("BEGIN") + r".*?(?:" + _PEM_LABEL.format("END") + r"|\Z)",
        re.DOTALL,
    ),
    _rule("jwt", _token("eyJ", 3) + r"[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*"),
    _rule("aws-access-key", r"(?:AKIA|ASIA|ABIA|ACCA)(?<![A-Za-z0-9].{4})[A-Z0-9]{16}(?![A-Za-z0-9])"),
    _rule(
        "github-token",
        r"(?:gh[pousr]_(?<![A-Za-z0-9_].{4})[A-Za-z0-9]{36,255}"
        r"|github_pat_(?<![A-Za-z0-9_].{11})[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])",
    ),
    _rule(
        "gitlab-token",
        _token("gl", 2) + r"(?:pat|dt|rt|ptt|cbt|soat|ft|imt|agent|oas)-[A-Za-z0-9_-]{20,}(?:\.[A-Za-z0-9_-]+)*",
    ),
    _rule(
        "slack-webhook",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<v>[A-Za-z0-9_/-]+)",
        _I,
        value=("v",),
    ),
    _rule("slack-token", _token("x", 1) + r"(?:ox[abeoprs]-[A-Za-z0-9-]{10,}|app-[0-9]-[A-Za-z0-9-]{10,})"),
    _rule(
        "stripe-key",
        r"(?:(?:sk|rk)_(?<![A-Za-z0-9_-].{3})(?:live|test)_[A-Za-z0-9]{10,}"
        r"|whsec_(?<![A-Za-z0-9_-].{6})[A-Za-z0-9]{20,})",
    ),
    _rule("google-api-key", _token("AIza", 4) + r"[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])"),
    _rule("anthropic-key", _token("sk-ant-", 7) + r"[A-Za-z0-9_-]{20,}"),
    _rule(
        "openai-key",
        _token("sk-", 3) + r"(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}",
        accept=_has_digit_or_upper,
    ),
    _rule("npm-token", _token("npm_", 4) + r"[A-Za-z0-9]{36}(?![A-Za-z0-9])"),
    _rule("pypi-token", _token("pypi-AgE", 8) + r"[A-Za-z0-9_-]{50,}"),
    _rule("huggingface-token", _token("hf_", 3) + r"[A-Za-z0-9]{34,}"),
    # Context.
    _rule(
        "url-credentials",
        r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,31}://[^\s:/?#@\[\]\"'<>]*:(?P<v>[^\s/?#\"'<>\[\]]+)@",
        value=("v",),
        accept=_names_a_secret,
    ),
    _rule(
        "bearer",
        r"(?-i:[Aa])uthorization(?:\\?[\"'])?[ \t]*[:=][ \t]*" + _STRING_PREFIX + r"(?:\\?[\"'])?"
        r"(?:(?:bearer|basic|token|bot|digest|negotiate|ntlm|apikey)[ \t]+)?(?P<v>[^\s\"'\\,;]+)",
        _I,
        value=("v",),
        accept=_header_value_is_secret,
    ),
    _rule(  # Bearer outside a header
        "bearer",
        r"(?:Bearer|bearer|BEARER)(?<![A-Za-z0-9_-].{6})[ \t]+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)",
        value=("v",),
        accept=_has_digit,
    ),
    _rule(
        "cookie",
        r"(?-i:[CcSs])(?:(?<=[Cc])ookie(?<![A-Za-z0-9_-].{6})|(?<=[Ss])et-cookie(?<![A-Za-z0-9_-].{10}))"
        r"(?:\\?[\"'])?[ \t]*:[ \t]*(?:\\?[\"'])?(?P<v>[^\r\n\"'\\]+)",
        _I,
        value=("v",),
        accept=_names_a_secret,
    ),
    _rule(
        "password",
        _token("login", 5) + r"\s+\S+\s+password[ \t]+(?P<v>\S+)",  # .netrc
        value=("v",),
        accept=_names_a_secret,
    ),
    # Key words, whose kind picks the marker: <password>v</password>, --password v, YAML, inline.
    _rule(
        "secret",
        r"<[A-Za-z0-9_.:-]{0,64}?" + _TEXT_WORDS + r">(?P<v>[^<]+)</",
        _I,
        value=("v",),
        keyed=True,
        accept=_names_a_secret,
    ),
    _rule(
        "secret",
        _token("--", 2) + r"(?:[A-Za-z0-9]+[-_]){0,4}?" + _TEXT_WORDS + _KEY_END + r"[ \t]+(?!-)" + _VALUE,
        _I,
        value=_VALUE_GROUPS,
        keyed=True,
        accept=_names_a_secret,
    ),
    _rule(
        "secret",
        r"^[ \t]*(?:-[ \t]+)?[A-Za-z0-9_.-]{0,64}?" + _TEXT_WORDS + r"(?![A-Za-z0-9_-])[ \t]*:[ \t]+"
        r"(?P<v>[^\s\"'{\[|>&*!#%@`][^\r\n]*)",
        _I | re.MULTILINE,
        value=("v",),
        keyed=True,
        accept=_yaml_value_is_secret,
    ),
    _rule(
        "secret",
        _TEXT_WORDS + _KEY_END + r"[ \t]*(?:" + _ANNOTATION + r"|:=|=>|={1,3}|:)[ \t]*" + _VALUE,
        _I,
        value=_VALUE_GROUPS,
        keyed=True,
        accept=_names_a_secret,
    ),
)


def _custom_rule(pattern: str) -> _Rule:
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"invalid redact pattern {pattern!r}: {error}") from None
    return _Rule("custom", compiled, ("secret",) if "secret" in compiled.groupindex else ())


@functools.lru_cache(maxsize=4096)
def _key_kind(key: str) -> str | None:
    """The kind of secret a dict key names, or None."""
    match = _DICT_WORDS.search(_snake(key))
    if match is None:
        return None
    kind = next(kind for group, kind in _DICT_KIND_GROUPS if match.start(group) != -1)
    if kind == "token" and _SPECIAL_TOKEN_PREFIX.search(match.string, 0, match.start()):
        return None
    return kind


def _pair_kind(mapping: dict[Any, Any]) -> str | None:
    """``{"name": "DB_PASSWORD", "value": "..."}``: the kind the name gives the value."""
    for key, name in mapping.items():
        if isinstance(key, str) and key.lower() in ("name", "key") and isinstance(name, str):
            return _key_kind(name)
    return None


class Redactor:
    """The built-in rules plus extra patterns from configuration, compiled once.

    An extra pattern's match becomes ``[REDACTED:custom]``; when the pattern has a group
    named ``secret``, only that group is replaced. Extra patterns run after the built-in
    rules. An invalid one raises ValueError naming it.
    """

    __slots__ = ("_rules",)

    def __init__(self, extra_patterns: Sequence[str] = ()) -> None:
        if isinstance(extra_patterns, str):
            raise TypeError("extra_patterns is a sequence of regular expressions, not one string")
        self._rules = _BUILTIN_RULES + tuple(_custom_rule(pattern) for pattern in extra_patterns)

    def redact_text(self, text: str) -> str:
        """``text`` with every secret found replaced by its marker."""
        pieces = _MARKER_SPLIT.split(text)  # even indexes are text, odd ones are markers
        for rule in self._rules:
            out: list[str] = []
            for index, piece in enumerate(pieces):
                if index % 2 or not piece:
                    out.append(piece)
                    continue
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
        every other string is redacted as text, dict keys included. Walks without recursion,
        so depth is no limit; shared and cyclic containers are copied once.
        """
        root: list[object] = [None]
        memo: dict[tuple[int, str | None], object] = {}
        stack: list[tuple[object, dict[object, object] | list[object], object, str | None]]
        stack = [(value, root, 0, None)]
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
        return f"[REDACTED:{kind}]"


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
