"""Preparing a large batch in helper processes, so that preparing one chunk overlaps sending the last.

The drain loop spends its CPU on two things of similar cost: preparing records (redaction above all,
see `prepare`) and kafka-python's `send`. Both hold the GIL, so threads would not help; a worker
process does. A batch (`PreparePool.batch()`) is sent chunk by chunk, its first chunks while the caller
still reads the rest (`PreparedBatch.add`); `PreparedBatch.results(lines)` sends what is left and yields
what `prepare_lines` gives for every line, in order, while the worker(s) prepare the chunks after it
(gathering the usage trigger events of the batch, as `prepare_lines` does). A worker is sent the spool
lines unparsed: it is the only one to parse them.

- Workers are started with `spawn` (safe beside kafka-python's sender thread, and the only method on
  Windows) on the first chunk; starting costs about half a second (imports and the redaction
  database), so `Forwarder` starts the pool only on a batch of `POOL_FROM_EVENTS` or more (and then
  uses it for every batch). A forwarder that moves a few events at a time never starts a worker. Until
  the workers are up (`ready()`), chunks are prepared in this process instead of waiting for them.
- Each worker builds its own `CachingRedactor` from `settings.extra_redact_patterns` and prepares with
  the same settings as the forwarder (capture mode, prompt hash key, topic prefix).
- A worker that cannot start or dies (killed, out of memory) breaks the pool: it is logged once, `results`
  prepares the rest of the batch in this process, and the pool stays closed. The output is the same
  either way; only the speed differs.
- `close()` stops the workers; a worker whose forwarder ends any other way (killed, too) notices and exits.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from omniclaude.config import Settings
from omniclaude.forwarder.prepare import Prepared, Redacting, prepare_lines

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger("omniclaude.forwarder")

CHUNK_EVENTS = 250
POOL_FROM_EVENTS = 1000

# In a worker process: its settings and redactor, set by `_start_worker`.
_WORKER: list[tuple[Settings, Redacting]] = []


def _start_worker(settings: Settings) -> None:
    """Runs once in each worker process: builds its redactor, and ends the worker with its forwarder."""
    import multiprocessing
    import threading

    from omniclaude.forwarder.redaction import CachingRedactor

    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()
    _WORKER[:] = [(settings, CachingRedactor(settings.extra_redact_patterns))]


def _exit_with(sentinel: int) -> None:
    """Waits until the forwarder process is gone (killed, too), then ends this worker."""
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(0)


def _started() -> bool:
    """Runs in a worker as its first task: its end tells the forwarder that the worker is up."""
    return True


Chunk = tuple[list[Prepared], list[dict[str, Any]]]  # what `prepare_lines` gives, and the triggers


def _taken(chunk: Chunk, triggers: list[dict[str, Any]]) -> list[Prepared]:
    """A chunk's results, its triggers appended to `triggers`."""
    triggers += chunk[1]
    return chunk[0]


def _prepare_chunk(lines: Sequence[bytes]) -> Chunk:
    """Runs in a worker: `prepare_lines` for one chunk of spool lines."""
    settings, redactor = _WORKER[0]
    triggers: list[dict[str, Any]] = []
    return prepare_lines(lines, settings, redactor, triggers), triggers


class PreparePool:
    """`workers` processes that run `prepare_lines` on chunks of `chunk_events` lines; see the module
    docstring. `inline` prepares in this process (used for what the pool cannot do)."""

    def __init__(
        self,
        settings: Settings,
        workers: int,
        inline: Callable[[Sequence[bytes]], Chunk],
        chunk_events: int = CHUNK_EVENTS,
    ) -> None:
        self._settings = settings
        self._workers = workers
        self._inline = inline
        self.chunk_events = chunk_events
        self._executor: ProcessPoolExecutor | None = None
        self._started: Future[bool] | None = None  # the workers' first task: done once they are up
        self.broken = workers < 1

    def batch(self) -> PreparedBatch:
        """A new batch to send chunk by chunk (`PreparedBatch.add`) and then take (`results`)."""
        return PreparedBatch(self)

    def ready(self) -> bool:
        """Whether the workers are up and take chunks; starts them on the first call. False once the
        pool is broken (a worker that could not start breaks it here)."""
        if self.broken:
            return False
        try:
            if self._executor is None:
                import multiprocessing  # here, not at import: a forwarder that never needs it starts faster
                from concurrent.futures import ProcessPoolExecutor

                self._executor = ProcessPoolExecutor(
                    self._workers,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start_worker,
                    initargs=(self._settings,),
                )
                self._started = self._executor.submit(_started)
            if self._started is None or not self._started.done():
                return False
            self._started.result()
        except Exception as exc:
            self._fail(exc)
            return False
        return True

    def _submit(self, lines: Sequence[bytes]) -> Future[Chunk] | None:
        """Sends one chunk to a worker; None while the workers start, or once the pool is broken."""
        if not self.ready() or self._executor is None:
            return None
        try:
            return self._executor.submit(_prepare_chunk, lines)
        except Exception as exc:
            self._fail(exc)
            return None

    def _fail(self, exc: BaseException) -> None:
        log.warning("the prepare worker failed (%s: %s); preparing in the forwarder", type(exc).__name__, exc)
        self.broken = True
        self.close()

    def close(self) -> None:
        """Stops the workers (chunks not started are cancelled); never raises."""
        executor, self._executor = self._executor, None
        if executor is not None:
            try:
                executor.shutdown(wait=True, cancel_futures=True)
            except Exception:
                log.debug("stopping the prepare workers failed", exc_info=True)


class PreparedBatch:
    """One batch on its way through a `PreparePool`: chunks of its first lines may be sent while the
    rest is still being read (`add`), then `results` sends what is left and yields every result."""

    def __init__(self, pool: PreparePool) -> None:
        self._pool = pool
        # Each chunk: the worker's future (None: not sent, the workers were not up), its first line, its size.
        self._sent: list[tuple[Future[Chunk] | None, int, int]] = []
        self._lines = 0

    def add(self, lines: Sequence[bytes]) -> None:
        """Sends the next `lines` of the batch to a worker, if the workers are up; never raises."""
        self._sent.append((self._pool._submit(lines), self._lines, len(lines)))
        self._lines += len(lines)

    def results(self, lines: Sequence[bytes], triggers: list[dict[str, Any]]) -> Iterator[Prepared]:
        """Yields `prepare_lines`'s result for every line of `lines`, in order (the lines `add` sent are
        the first ones), appending the trigger events to `triggers` as `prepare_lines` does. A chunk not
        sent (the workers were still starting) is prepared in this process, unless the workers came up
        meanwhile; then they get the chunks after it. Chunks not taken are cancelled."""
        size = self._pool.chunk_events
        for start in range(self._lines, len(lines), size):
            self.add(lines[start : start + size])
        done = 0
        try:
            for index, (future, start, count) in enumerate(self._sent):
                if future is None and self._pool.ready():
                    self._send_after(index, lines)
                if future is None:
                    yield from _taken(self._pool._inline(lines[start : start + count]), triggers)
                    done += count
                    continue
                try:
                    prepared = future.result()
                except Exception as exc:
                    self._pool._fail(exc)
                    break
                if len(prepared[0]) != count:
                    self._pool._fail(RuntimeError(f"a worker gave {len(prepared[0])} results for {count} lines"))
                    break
                yield from _taken(prepared, triggers)
                done += count
        finally:
            for future, _start, _count in self._sent:
                if future is not None:
                    future.cancel()
        if done < len(lines):
            yield from _taken(self._pool._inline(lines[done:]), triggers)

    def _send_after(self, index: int, lines: Sequence[bytes]) -> None:
        """Sends the chunks after chunk `index` that were not sent."""
        for later in range(index + 1, len(self._sent)):
            future, start, count = self._sent[later]
            if future is None:
                self._sent[later] = (self._pool._submit(lines[start : start + count]), start, count)
