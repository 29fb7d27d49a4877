"""Real services for the test suite: a Kafka broker and a PostgreSQL cluster, run as child processes.

``harness.kafka.KafkaBroker`` and ``harness.postgres.PostgresCluster`` start real servers on free
127.0.0.1 ports with their state in a fresh temporary directory. They are thin test wrappers around the
product's own servers (``omniclaude.stack``, what ``omniclaude stack`` runs), so the tests exercise what
users run. ``tests/conftest.py`` exposes them as fixtures. This module holds what both share.

Errors (the product's, under the harness's names)::

    HarnessError            a service could not be prepared, started or stopped (omniclaude.stack StackError)
    └── MissingToolError    a program the service needs (java, initdb, ...) is not installed;
                            its message is one line naming the program and how to install it

No service outlives pytest. Four layers make sure of it:

1. the fixtures close their service in ``finally`` at session end;
2. every started process is registered, and an ``atexit`` hook kills what is still running
   (pytest interrupted by Ctrl-C, or a fixture that never reached its teardown);
3. each service runs in its own process group (``start_new_session``), so a stop also reaches its
   children, and Ctrl-C at the terminal reaches pytest only, which then stops the services in order;
4. the process is started through ``setpriv --pdeathsig KILL`` (util-linux) when pytest's main thread
   starts it, so the kernel kills it if pytest itself dies (SIGKILL, SIGTERM) without cleaning up.
"""

from __future__ import annotations

import sys

from omniclaude.stack.process import MissingToolError, ServiceProcess, free_port, log_tail, port_open, wait_for
from omniclaude.stack.process import StackError as HarnessError

__all__ = [
    "HarnessError",
    "MissingToolError",
    "ServiceProcess",
    "free_port",
    "log_tail",
    "port_open",
    "record_timing",
    "timings",
    "wait_for",
]

_timings: list[str] = []


def record_timing(message: str) -> None:
    """Keep ``message`` for the pytest terminal summary and print it to stderr now (seen with -s)."""
    _timings.append(message)
    print(f"harness: {message}", file=sys.stderr, flush=True)


def timings() -> list[str]:
    """All messages given to :func:`record_timing` in this process, oldest first."""
    return list(_timings)
