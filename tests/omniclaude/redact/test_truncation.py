"""Redact before truncating: no size cap leaves a secret's prefix in clear.

The hook cuts long strings (`envelope.encode`) and the preview of input that is not JSON
(`hook.RAW_PREVIEW_CHARS`) before the forwarder redacts. Both cut at a token boundary; what is left must
still be caught by the redactor. Each corpus secret is cut at every position inside it.
"""

from __future__ import annotations

import json

from omniclaude import envelope, hook
from omniclaude.redact import Redactor

from tests.omniclaude.redact import corpus
from tests.omniclaude.redact.fakes import fragments


def test_a_cut_inside_a_secret_leaves_no_piece_of_it_after_redaction() -> None:
    redactor = Redactor()
    leaked = []
    for case in corpus.POSITIVES[::3]:
        text = "some output before\n" + case.text + "\nand after"
        for secret in case.secrets:
            start = text.find(secret)
            if start < 0:
                continue
            for keep in range(start, start + len(secret), 3):
                head = text[: envelope.cut_at_boundary(text, keep)]
                out = redactor.redact_text(head)
                leaked += [(case.family, keep, piece) for piece in fragments(secret) if piece in out][:1]
    assert leaked == []


def test_cut_at_boundary_never_splits_a_token() -> None:
    text = "export TOKEN=abc123def456 next"
    for keep in range(len(text) + 1):
        cut = envelope.cut_at_boundary(text, keep)
        assert cut <= keep
        assert cut in (0, 6, 7, 25, 26, 30) or cut == keep == len(text), (keep, cut)


def test_encode_truncates_at_a_boundary() -> None:
    secret = "ghp_" + "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz1Xc3Vb5N"
    big = "x " * 3000 + "token " + secret + " " + "y " * 3000
    event = envelope.new_envelope("claude_hook", {"input": {"stdout": big}}, "hook", {})
    for cap in range(6100, 6200, 7):
        line = envelope.encode(json.loads(json.dumps(event)), cap)
        stdout = json.loads(line)["payload"]["input"]["stdout"]
        kept = stdout.split("…[truncated")[0]
        assert secret in kept or secret[:8] not in kept, cap


def test_the_raw_preview_is_cut_at_a_boundary() -> None:
    secret = "sk-ant-api03-" + "Zx9Cv8Bn7Mq6Wr5Ty4Ui3Op2As1Df0Gh" * 2
    for pad in range(hook.RAW_PREVIEW_CHARS - 60, hook.RAW_PREVIEW_CHARS + 5, 4):
        data = ("a" * pad + " " + secret + " tail").encode()
        _, error, raw = hook.parse_input(data)
        assert error is not None and raw is not None
        assert secret in raw or secret[:12] not in raw
