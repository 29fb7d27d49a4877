"""The forwarder's errors, and which of them are retried.

::

    ForwarderError              base of everything the forwarder raises on purpose
    ├── ForwarderConfigError    the Kafka settings cannot work (no bootstrap servers, SASL without a
    │                           user); never retried: the forwarder stops and says which setting
    └── DeliveryError           a batch was not acknowledged (broker down or slow, topic creation failed,
        │                       flush timed out); retried with backoff, the spool cursor unmoved
        └── DeliveryAbandoned   a stop was requested while a batch was in flight; not retried, the
                                batch stays in the spool for the next forwarder

An `OSError` from the spool (unreadable folder or segment) is not wrapped: the loop reports it and
retries like a `DeliveryError`.
"""

from __future__ import annotations


class ForwarderError(Exception):
    """Base class of the forwarder's own errors."""


class ForwarderConfigError(ForwarderError):
    """The settings cannot reach Kafka; the message names the setting, never a secret value."""


class DeliveryError(ForwarderError):
    """A batch was not fully acknowledged by the broker; it will be sent again."""


class DeliveryAbandoned(DeliveryError):
    """A stop was requested while a batch was in flight; the batch stays unshipped."""
