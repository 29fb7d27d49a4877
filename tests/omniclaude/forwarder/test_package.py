"""The forwarder package: its public names, and that importing it loads neither kafka nor pydantic."""

from __future__ import annotations

import subprocess
import sys

import omniclaude.forwarder


def test_public_names_are_pinned() -> None:
    assert omniclaude.forwarder.__all__ == [
        "Backoff",
        "DeliveryAbandoned",
        "DeliveryError",
        "FlushReport",
        "Forwarder",
        "ForwarderConfigError",
        "ForwarderError",
        "OutgoingRecord",
        "RunOptions",
        "RunResult",
        "admin_config",
        "client_config",
        "default_spools",
        "flush",
        "forwarder_status",
        "prepare",
        "producer_config",
        "set_testing",
    ]


def test_importing_the_forwarder_loads_no_kafka() -> None:
    code = (
        "import sys, omniclaude.forwarder, omniclaude.cli.forward, omniclaude.cli.flush\n"
        "print(sorted(m for m in ('kafka', 'pydantic') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
