"""Secret redaction: secrets never leave the machine (see ``_engine`` for the contract).

- ``_engine``: the walker and the text rules, compiled once;
- ``keywords``: which names hold a secret and which values look like one;
- ``vendors``: vendor tokens by shape, as data with their own examples.
"""

from omniclaude.redact._engine import Redactor, redact

__all__ = ["Redactor", "redact"]
