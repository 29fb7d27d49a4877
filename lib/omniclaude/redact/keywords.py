"""Which names hold a secret, and which values look like one: the keyword detector's judgement.

A name *holds* a secret when one of its words contains a secret word: ``pass`` (password, passwd,
passphrase, ``DB_PASS``), ``pwd``, ``pw``, ``secret``, ``token``, ``key`` (``api_key``, ``APP_KEY``,
``AccountKey``), ``auth``, ``credential``, ``cookie``, ``session``, ``private``, ``salt``,
``signature``. Words are split at ``_``, ``-``, ``.``, spaces and camel-case humps.

Small named predicates keep the near misses out (after detect-secrets' heuristic filters):

- a name whose last word says what it is *about* (``session_id``, ``token_count``, ``password_file``,
  ``secret_name``, ``key_path``) names no secret: :data:`ABOUT_WORDS`;
- counting words: ``max_tokens``, ``input_tokens``, ``tokenizer``;
- words that merely contain the letters: ``passenger``, ``bypass``, ``monkey``, ``keyboard``, ``author``;
- keys that are identifiers, not secrets: ``sort_key``, ``primary_key``, ``public_key``, ``cache_key``.

Some names are *weak*: ``key``, ``auth``, ``session``, ``private``, ``signature``, a pagination
``next_token``. Their value is a secret only when it looks like one (:func:`looks_secret`); a strong
name's value is a secret whatever it looks like.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Final, NamedTuple

__all__ = ["STEMS", "KeyName", "classify", "looks_secret", "shannon_entropy"]

# The literals every secret name holds (lower case): the pre-filter of the keyword rules.
STEMS: Final = (
    "pass", "pwd", "pw", "secret", "token", "key", "auth", "credential", "cookie", "session", "private",
    "salt", "signature",
)  # fmt: skip

ABOUT_WORDS: Final = frozenset(
    [
        "id",
        "ids",
        "name",
        "names",
        "type",
        "types",
        "count",
        "counts",
        "len",
        "length",
        "size",
        "path",
        "paths",
        "file",
        "files",
        "dir",
        "dirs",
        "url",
        "urls",
        "uri",
        "endpoint",
        "host",
        "hostname",
        "port",
        "user",
        "username",
        "usr",
        "login",
        "email",
        "ttl",
        "timeout",
        "expiry",
        "expires",
        "expiration",
        "expire",
        "at",
        "in",
        "index",
        "idx",
        "mode",
        "format",
        "version",
        "limit",
        "limits",
        "max",
        "min",
        "header",
        "headers",
        "field",
        "fields",
        "policy",
        "hint",
        "env",
        "var",
        "vars",
        "prefix",
        "suffix",
        "usage",
        "used",
        "left",
        "remaining",
        "budget",
        "rotation",
        "algorithm",
        "alg",
        "label",
        "description",
        "desc",
        "ref",
        "arn",
        "location",
        "provider",
        "manager",
        "enabled",
        "disabled",
        "required",
        "present",
        "exists",
        "valid",
        "kind",
        "class",
        "regex",
        "pattern",
        "prompt",
        "placeholder",
        "help",
        "text",
        "message",
        "msg",
        "error",
        "errors",
        "status",
        "lifetime",
        "age",
        "duration",
        "time",
        "interval",
        "window",
        "source",
        "method",
        "scheme",
        "scope",
        "scopes",
        "audience",
        "issuer",
        "strategy",
        "handler",
        "cache",
        "store",
        "storage",
        "service",
        "backend",
        "type",
        "generator",
        "validator",
        "policy",
        "rule",
        "rules",
        "fingerprint",
        "reset",
        "change",
        "changed",
        "changes",
        "length",
        "min_length",
        "strength",
        "complexity",
        "hash",
        "hashed",
        "digest",
        "sock",
        "socket",
        "agent",
        "stdin",
        "stdout",
        "command",
        "cmd",
    ]
)
_COUNTING: Final = frozenset(
    [
        "max",
        "min",
        "num",
        "n",
        "total",
        "input",
        "output",
        "prompt",
        "completion",
        "cached",
        "cache",
        "reasoning",
        "used",
        "remaining",
        "context",
        "thinking",
        "budget",
        "estimated",
        "count",
        "new",
        "old",
        "special",
        "eos",
        "bos",
        "pad",
        "unk",
        "sep",
        "cls",
        "mask",
        "stop",
        "start",
        "end",
    ]
)
_PAGINATION: Final = frozenset({"next", "page", "continuation", "cancellation", "sync", "resume", "refresh_"})
_NOT_PASS: Final = (
    "passenger",
    "passthrough",
    "passthru",
    "passive",
    "passed",
    "passes",
    "passing",
    "passage",
    "passport",
)
_NOT_KEY: Final = frozenset({"monkey", "turkey", "donkey", "hockey", "jockey", "whiskey", "hotkey", "keykey"})
_ID_KEY_BEFORE: Final = frozenset(
    [
        "sort",
        "partition",
        "primary",
        "foreign",
        "cache",
        "public",
        "pub",
        "idempotency",
        "dedup",
        "dedupe",
        "lookup",
        "row",
        "range",
        "object",
        "s3",
        "composite",
        "unique",
        "shard",
        "routing",
        "group",
        "message",
        "i18n",
        "translation",
        "locale",
        "list",
        "item",
        "dict",
        "map",
        "json",
        "column",
        "index",
        "registry",
        "hash",
        "natural",
        "surrogate",
        "business",
        "host",
        "known",
        "short",
        "shortcut",
        "react",
        "redis",
        "kv",
        "foreign",
        "dict",
        "sorting",
        "join",
        "parent",
        "child",
        "cluster",
        "label",
        "annotation",
        "metadata",
        "config",
        "setting",
        "settings",
        "env",
        "feature",
        "flag",
    ]
)
_STRONG_KEY_BEFORE: Final = frozenset(
    [
        "api",
        "app",
        "access",
        "secret",
        "private",
        "master",
        "license",
        "signing",
        "encryption",
        "enc",
        "auth",
        "session",
        "client",
        "consumer",
        "account",
        "service",
        "storage",
        "shared",
        "admin",
        "deploy",
        "webhook",
        "sas",
        "hmac",
        "aes",
        "rsa",
        "ssh",
        "gpg",
        "pgp",
        "crypto",
        "cipher",
        "jwt",
        "salt",
        "subscription",
        "integration",
        "ingest",
        "write",
        "read",
        "server",
        "partner",
        "merchant",
        "root",
        "x",
        "master",
    ]
)
_SECRET_KEY_BEFORE: Final = frozenset(
    {"secret", "signing", "encryption", "enc", "master", "hmac", "crypto", "cipher", "aes"}
)
_SPLIT: Final = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


class KeyName(NamedTuple):
    """What a name says: the marker kind of its value, and whether the value must look secret too."""

    kind: str
    weak: bool


def _word_kind(words: list[str], index: int) -> KeyName | None:
    word = words[index]
    before = words[index - 1] if index else ""
    if word.startswith(_NOT_PASS) or word.endswith("less"):
        return None
    if word in ("pw", "pwd", "pgpass", "passwd") or "passw" in word or word.startswith("pass") or word.endswith("pass"):
        if (
            word.endswith("pass")
            and word
            not in (
                "pass",
                "dbpass",
                "pgpass",
                "mypass",
                "rootpass",
                "adminpass",
                "userpass",
            )
            and word in ("bypass", "compass", "encompass", "overpass", "underpass", "surpass", "trespass")
        ):
            return None
        return KeyName("password", False)
    if word.endswith("pwd") and word != "oldpwd":
        return KeyName("password", False)
    if "secret" in word and not word.startswith("secretar"):
        return KeyName("secret", False)
    if "credential" in word:
        return KeyName("credentials", False)
    if "salt" in word and not word.startswith(("salty", "saltwater")):
        return KeyName("secret", False)
    if "cookie" in word:
        return KeyName("cookie", False)
    if word.startswith("tokeniz"):
        return None
    if word in ("token", "tokens") or word.endswith("token"):
        if before in _COUNTING or (word == "tokens" and index == len(words) - 1 and before):
            return None
        if before in _PAGINATION:
            return KeyName("token", True)
        return KeyName("token", word == "tokens")
    if word.endswith("key") and word not in _NOT_KEY and not word.startswith("keyb"):
        if before in _SECRET_KEY_BEFORE:
            return KeyName("secret", False)
        if word != "key":
            return KeyName("api-key", word.startswith(("pub", "sort", "primary", "foreign", "cache")))
        if before in _ID_KEY_BEFORE:
            return None
        return KeyName("api-key", before not in _STRONG_KEY_BEFORE)
    if word == "keys":
        return None if before in _ID_KEY_BEFORE else KeyName("api-key", True)
    if word.startswith("authoriz") or word.startswith("authentic"):
        return KeyName("authorization", word.startswith("authentic"))
    if word in ("auth", "oauth", "authn", "authz", "basicauth", "httpauth") or word.endswith("auth"):
        return KeyName("authorization", True)
    if "session" in word:
        return KeyName("session", True)
    if word in ("private", "privkey"):
        return KeyName("private-key", word == "private")
    if word in ("signature", "sig"):
        return KeyName("signature", True)
    return None


@functools.lru_cache(maxsize=8192)
def classify(name: str) -> KeyName | None:
    """What ``name`` (a variable, key, flag or header name) says of its value; None: not a secret name."""
    words = [w.lower() for w in _SPLIT.split(name) if w]
    if not words or len(name) > 128:
        return None
    if words[-1] in ABOUT_WORDS and len(words) > 1:
        return None
    if "secret" in words and ("access" in words or "aws" in words):
        return KeyName("aws-secret-key", False)
    if "private" in words and ("key" in words or "keys" in words):
        return KeyName("private-key", False)
    best: KeyName | None = None
    for index in range(len(words)):
        found = _word_kind(words, index)
        if found is not None and (best is None or (best.weak and not found.weak)):
            best = found
    return best


_HAS_DIGIT: Final = re.compile(r"\d")
_HAS_LETTER: Final = re.compile(r"[A-Za-z]")
_HAS_SYMBOL: Final = re.compile(r"[^A-Za-z0-9\s._/-]")
_MIXED_CASE: Final = re.compile(r"[a-z].*[A-Z]|[A-Z].*[a-z]")
_WORDISH: Final = re.compile(r"[A-Za-z]+(?:[-_.][A-Za-z]+)*")


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``."""
    if not text:
        return 0.0
    counts: dict[str, int] = {}
    for char in text:
        counts[char] = counts.get(char, 0) + 1
    size = len(text)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def looks_secret(value: str, min_length: int = 8) -> bool:
    """True when ``value`` looks like a password or token rather than a word, number or sentence:
    long enough, no spaces, and letters mixed with digits, symbols or both cases."""
    if len(value) < min_length or " " in value or _WORDISH.fullmatch(value):
        return False
    has_letter = _HAS_LETTER.search(value) is not None
    if not has_letter:
        return False
    if _HAS_DIGIT.search(value) or _HAS_SYMBOL.search(value):
        return True
    return len(value) >= 12 and _MIXED_CASE.search(value[1:]) is not None
