"""Fake credentials for the redaction corpus: random strings of a vendor's shape, made up here.

Every value is generated from a fixed seed, so the corpus is the same on every run; none is real.
"""

from __future__ import annotations

import base64
import random
import string
from typing import NamedTuple

ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


class Case(NamedTuple):
    """One corpus case: a family, a text that holds it, and the secrets in it (empty for a negative)."""

    family: str
    text: str
    secrets: tuple[str, ...]


class Fakes:
    """Deterministic random strings: `fakes.of(ALNUM, 32)`; each call gives a new one."""

    def __init__(self, seed: str) -> None:
        self._random = random.Random(seed)

    def of(self, alphabet: str, length: int) -> str:
        """A random string of ``length`` characters of ``alphabet``, with at least one digit when it has digits."""
        while True:
            text = "".join(self._random.choice(alphabet) for _ in range(length))
            if length < 8 or not any(c.isdigit() for c in alphabet) or any(c.isdigit() for c in text):
                return text

    def password(self, length: int = 14) -> str:
        """A password with letters, digits and a symbol."""
        return (
            self.of(string.ascii_letters, length - 4) + self.of(string.digits, 2) + self._random.choice("!#%^*") + "x"
        )

    def digits(self, length: int) -> str:
        return self.of(string.digits, length)

    def uuid(self) -> str:
        h = self.of(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def b64(self, raw_bytes: int) -> str:
        return base64.b64encode(bytes(self._random.randrange(256) for _ in range(raw_bytes))).decode()

    def pem_body(self, lines: int = 6, first: str = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") -> str:
        body = first + self.of(B64, 64 * lines - len(first))
        return "\n".join(body[i : i + 64] for i in range(0, len(body), 64))


def fragments(secret: str, width: int = 12) -> list[str]:
    """Every ``width``-character piece of ``secret`` (the secret itself when shorter)."""
    if len(secret) <= width:
        return [secret]
    return [secret[i : i + width] for i in range(len(secret) - width + 1)]
