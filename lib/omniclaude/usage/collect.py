"""The usage step: new transcript bytes -> one `llm_usage` event per API response, into the spool.

The forwarder calls `UsageCollector.collect(events)` with each batch it reads from the spool. Hook events
that mark a moment when the transcript has new responses (`TRIGGERS`) name the files to read:
`transcript_path` (the main thread), `agent_transcript_path` (SubagentStop), and every
`<session>/subagents/agent-*.jsonl` beside the main transcript. SessionStart also re-reads every file
already followed that grew since, so a transcript written after its session's last hook is picked up at
the next session start at the latest.

Per file, only the bytes after its cursor are read (see `omniclaude.usage.state`); a file that shrank or
whose first bytes changed was rewritten and is read again from the start. Each response becomes an
`llm_usage` envelope whose event_id is a UUIDv5 of (message id, request id), so a response read twice
(a re-read, a rewritten file, a replay) is one row in PostgreSQL. The envelopes are appended to the spool
before the cursors move: a crash in between re-emits, never loses.

Subagent files are tagged with `agent_id` (from the file name `agent-<id>.jsonl`) and `agent_type` (the
`agentType` of the `agent-<id>.meta.json` beside it, else the SubagentStop event's). The cost comes from
the price table; a model it does not know gets `cost_usd` null and is counted.

Never raises for a transcript problem: a missing or unreadable file, a malformed line, an unknown model
are counted in the state (shown by `omniclaude status` and `doctor`) and the rest goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from omniclaude import envelope
from omniclaude.usage.prices import PriceError, PriceTable, load_prices
from omniclaude.usage.state import (
    HEAD_BYTES,
    MAX_UNKNOWN_MODELS,
    locked,
    note_problem,
    read_usage_state,
    write_usage_state,
)
from omniclaude.usage.transcript import UsageRecord, scan

log = logging.getLogger("omniclaude.usage")

EVENT_TYPE = "llm_usage"
TRIGGERS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd", "SessionStart"})
RESCAN_TRIGGERS = frozenset({"SessionStart"})
NAMESPACE = uuid.UUID("5b0c6a52-6f8e-4d0e-9a57-3c1f2d7e8a90")
CHUNK_BYTES = 8 * 1024 * 1024
MAX_LINE_BYTES = 32 * 1024 * 1024
FORGET_AFTER_SECONDS = 40 * 86400
MAX_FILES = 10_000
CONTEXT_KEYS = ("project_path", "project_name", "working_directory", "claude_session_id", "terminal_id", "host", "user")
_AGENT_FILE = re.compile(r"agent-([A-Za-z0-9_-]{1,100})\.jsonl")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")


def event_id(message_id: str, request_id: str | None) -> str:
    """The event id of a response: UUIDv5 of its message id and request id."""
    return str(uuid.uuid5(NAMESPACE, f"{message_id}\n{request_id or ''}"))


@dataclass
class Target:
    """A transcript file to read, and what the hook event that named it says about it."""

    path: str
    context: dict[str, Any]
    agent_id: str | None = None
    agent_type: str | None = None


@dataclass
class Targets:
    """The files a batch asks to read, and whether every followed file should be looked at."""

    files: dict[str, Target] = field(default_factory=dict)
    rescan: bool = False

    def add(self, target: Target) -> None:
        known = self.files.get(target.path)
        if known is None or (known.agent_type is None and target.agent_type is not None):
            self.files[target.path] = target


def _string(value: object) -> str | None:
    return value if isinstance(value, str) and value and len(value) < 4096 and "\0" not in value else None


def _subagent_files(main: str) -> list[str]:
    directory = os.path.join(os.path.splitext(main)[0], "subagents")
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    return [os.path.join(directory, name) for name in names if _AGENT_FILE.fullmatch(name)]


def is_trigger(event: Mapping[str, Any]) -> bool:
    """Whether an event is a hook event whose transcripts `targets_of` reads (see the module docstring)."""
    payload = event.get("payload")
    if event.get("event_type") != "claude_hook" or not isinstance(payload, dict):
        return False
    name = payload.get("hook_event_name")
    return isinstance(name, str) and name in TRIGGERS and isinstance(payload.get("input"), dict)


def targets_of(events: Iterable[Mapping[str, Any]]) -> Targets:
    """The transcripts named by the trigger hook events among `events` (see the module docstring)."""
    found = Targets()
    subagents: dict[str, list[str]] = {}  # per main transcript: its folder is listed once per batch
    for event in events:
        if not is_trigger(event):
            continue
        payload = event["payload"]
        name = payload.get("hook_event_name")
        hook_input = payload["input"]
        found.rescan = found.rescan or name in RESCAN_TRIGGERS
        raw_context = event.get("context")
        context = {
            key: raw_context[key]
            for key in CONTEXT_KEYS
            if isinstance(raw_context, dict) and isinstance(raw_context.get(key), str)
        }
        if "claude_session_id" not in context and _string(hook_input.get("session_id")):
            context["claude_session_id"] = hook_input["session_id"]
        main = _string(hook_input.get("transcript_path"))
        if main is not None:
            found.add(Target(main, context))
            if main not in subagents:
                subagents[main] = _subagent_files(main)
            for path in subagents[main]:
                found.add(Target(path, context))
        agent_path = _string(hook_input.get("agent_transcript_path"))
        if agent_path is not None:
            found.add(
                Target(agent_path, context, _string(hook_input.get("agent_id")), _string(hook_input.get("agent_type")))
            )
    return found


def _saved_context(saved: Mapping[str, Any]) -> dict[str, Any]:
    context = saved.get("context")
    return (
        {k: v for k, v in context.items() if k in CONTEXT_KEYS and isinstance(v, str)}
        if isinstance(context, dict)
        else {}
    )


def _changed(path: str, saved: Mapping[str, Any]) -> bool:
    """Whether a followed file may hold new bytes (or is gone): its size differs from the cursor's."""
    try:
        return os.stat(path).st_size != saved.get("size") or saved.get("size") != saved.get("offset")
    except OSError:
        return True


def _agent_of(path: str, target: Target, saved: Mapping[str, Any]) -> tuple[str | None, str | None]:
    match = _AGENT_FILE.fullmatch(os.path.basename(path))
    if match is None:
        return None, None
    agent_id = target.agent_id or _string(saved.get("agent_id")) or match.group(1)
    agent_type = _string(saved.get("agent_type")) or target.agent_type
    if agent_type is None:
        try:
            with open(path[: -len(".jsonl")] + ".meta.json", "rb") as handle:
                meta = json.loads(handle.read(64 * 1024))
            agent_type = _string(meta.get("agentType")) if isinstance(meta, dict) else None
        except (OSError, ValueError):
            agent_type = None
    return agent_id, agent_type or target.agent_type


Emit = Callable[[bytes], None]
"""Appends one encoded envelope line (ending in a newline) to a spool; raises OSError."""


class SpoolUnavailable(Exception):
    """The usage events could not be appended to the spool: nothing moves, the next trigger retries."""


class UsageCollector:
    """Reads transcripts, keeping its cursors and counters in `state_dir`; prices from `config_dir`."""

    def __init__(
        self,
        state_dir: str,
        config_dir: str | None,
        event_max_bytes: int = 256 * 1024,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.state_dir = state_dir
        self.config_dir = config_dir
        self.event_max_bytes = event_max_bytes
        self._wall = wall
        self._prices: PriceTable | None = None
        self.price_error: str | None = None

    def prices(self) -> PriceTable:
        """The price table (loaded once); a bad user file is reported and the shipped table used."""
        if self._prices is None:
            try:
                self._prices = load_prices(self.config_dir)
            except PriceError as exc:
                self.price_error = str(exc)
                log.warning("%s; using the shipped price table", exc)
                self._prices = load_prices(None)
        return self._prices

    def collect(self, events: Iterable[Mapping[str, Any]], emit: Emit) -> int:
        """Reads what the trigger events among `events` point at, passes each usage event to `emit`;
        returns how many. Transcript trouble is counted, not raised. SpoolUnavailable (from `emit`) and
        OSError (the state file) are raised, and the cursors then stay where they were."""
        targets = targets_of(events)
        if not targets.files and not targets.rescan:
            return 0
        with locked(self.state_dir):
            state = read_usage_state(self.state_dir)
            if self.price_error:
                state["last_problem"] = f"price file ignored: {self.price_error}"[:500]
            files: dict[str, Any] = state["files"]
            if targets.rescan:
                for path, saved in list(files.items()):
                    if path not in targets.files and _changed(path, saved):
                        targets.add(Target(path, _saved_context(saved)))
            emitted = 0
            for target in targets.files.values():
                emitted += self._read(target, state, emit)
            self._forget_old(files)
            write_usage_state(self.state_dir, state)
        return emitted

    def collect_safely(self, events: Iterable[Mapping[str, Any]], emit: Emit) -> int:
        """`collect`, logging instead of raising: usage is a report, it never stops the forwarder."""
        try:
            return self.collect(events, emit)
        except Exception as exc:
            log.warning("transcript usage not collected this time: %s: %s", type(exc).__name__, exc)
            return 0

    # one file ------------------------------------------------------------------------------------

    def _read(self, target: Target, state: dict[str, Any], emit: Emit) -> int:
        files: dict[str, Any] = state["files"]
        saved: dict[str, Any] = files.get(target.path) or {}
        path = target.path
        if not path.endswith(".jsonl"):
            note_problem(state, "unreadable_files", f"not a transcript (no .jsonl name): {path}")
            return 0
        try:
            # Non-blocking, so that a FIFO in place of a transcript cannot hang the forwarder.
            fd = os.open(
                path,
                os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0) | getattr(os, "O_NONBLOCK", 0),
            )
        except FileNotFoundError:
            files.pop(path, None)  # deleted by Claude Code's cleanup: nothing more will come
            note_problem(state, "missing_files", f"transcript not found: {path}")
            return 0
        except OSError as exc:
            note_problem(state, "unreadable_files", f"cannot read transcript {path}: {exc.strerror or exc}")
            return 0
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                note_problem(state, "unreadable_files", f"not a regular file: {path}")
                return 0
            with os.fdopen(fd, "rb") as handle:
                return self._read_open(handle, target, saved, state, emit)
        except OSError as exc:
            note_problem(state, "unreadable_files", f"cannot read transcript {path}: {exc.strerror or exc}")
            return 0

    def _read_open(self, handle: Any, target: Target, saved: dict[str, Any], state: dict[str, Any], emit: Emit) -> int:
        size = os.fstat(handle.fileno()).st_size
        saved_offset = saved.get("offset")
        offset = saved_offset if isinstance(saved_offset, int) and saved_offset >= 0 else 0
        head = handle.read(min(offset, HEAD_BYTES))
        if offset > size or hashlib.sha256(head).hexdigest() != saved.get("head", hashlib.sha256(b"").hexdigest()):
            if offset:
                note_problem(state, "rewritten_files", f"transcript rewritten, read again: {target.path}")
            offset = 0
        context = {**_saved_context(saved), **target.context}
        agent_id, agent_type = _agent_of(target.path, target, saved)
        emitted = 0
        seen: set[tuple[str, str | None]] = set()  # a response's lines may straddle two chunks
        handle.seek(offset)
        buffer = b""
        position = offset
        skipping = False
        while position < size:
            chunk = handle.read(min(CHUNK_BYTES, size - position))
            if not chunk:
                break
            position += len(chunk)
            if skipping:
                newline = chunk.find(b"\n")
                if newline < 0:
                    continue
                chunk, skipping = chunk[newline + 1 :], False
            buffer = buffer + chunk if buffer else chunk
            result = scan(buffer)
            if result.malformed:
                state["counters"]["malformed_lines"] += result.malformed
                state["last_problem"] = f"{result.malformed} malformed line(s) in {target.path}"
                state["last_problem_at"] = envelope.iso_timestamp(time.time_ns())
            for record in result.records:
                if record.key in seen:
                    continue
                seen.add(record.key)
                line = self._encode(record, context, agent_id, agent_type, state)
                try:
                    emit(line)
                except OSError as exc:
                    raise SpoolUnavailable(f"cannot append usage events to the spool: {exc}") from exc
                emitted += 1
            buffer = buffer[result.consumed :]
            if len(buffer) > MAX_LINE_BYTES:
                note_problem(state, "malformed_lines", f"line longer than {MAX_LINE_BYTES} bytes in {target.path}")
                buffer, skipping = b"", True
        new_offset = position - len(buffer)
        handle.seek(0)
        state["counters"]["bytes_read"] += new_offset - offset
        state["counters"]["responses"] += emitted
        state["files"][target.path] = {
            "offset": new_offset,
            "head": hashlib.sha256(handle.read(min(new_offset, HEAD_BYTES))).hexdigest(),
            "size": size,
            "context": context,
            "agent_id": agent_id,
            "agent_type": agent_type,
            "touched_at": self._wall() if new_offset != offset or "touched_at" not in saved else saved["touched_at"],
        }
        return emitted

    def _encode(
        self,
        record: UsageRecord,
        context: Mapping[str, Any],
        agent_id: str | None,
        agent_type: str | None,
        state: dict[str, Any],
    ) -> bytes:
        cost = self.prices().cost(
            record.model,
            input=record.input_tokens,
            output=record.output_tokens,
            cache_read=record.cache_read_input_tokens,
            cache_creation=record.cache_creation_input_tokens,
            cache_1h=record.cache_creation_1h_tokens,
        )
        if cost is None:
            note_problem(state, "unknown_model_responses", f"no price for model {record.model!r}: cost left empty")
            if record.model not in state["unknown_models"] and len(state["unknown_models"]) < MAX_UNKNOWN_MODELS:
                state["unknown_models"].append(record.model)
        event_context = dict(context)
        if record.session_id:
            event_context["claude_session_id"] = record.session_id
        payload: dict[str, object] = {
            "model": record.model,
            "message_id": record.message_id,
            "request_id": record.request_id,
            "agent_id": agent_id or record.agent_id,
            "agent_type": agent_type,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "cache_creation_input_tokens": record.cache_creation_input_tokens,
            "cache_read_input_tokens": record.cache_read_input_tokens,
            "cache_creation_5m_tokens": record.cache_creation_5m_tokens,
            "cache_creation_1h_tokens": record.cache_creation_1h_tokens,
            "cost_usd": cost,
        }
        occurred_at = record.occurred_at
        if occurred_at is None or not _TIMESTAMP.fullmatch(occurred_at):
            occurred_at = envelope.iso_timestamp(time.time_ns())
        event: dict[str, object] = {
            "event_id": event_id(record.message_id, record.request_id),
            "schema_version": envelope.SCHEMA_VERSION,
            "event_type": EVENT_TYPE,
            "occurred_at": occurred_at,
            "source": "logger",
            "context": event_context,
            "payload": payload,
        }
        return envelope.encode(event, self.event_max_bytes)

    def _forget_old(self, files: dict[str, Any]) -> None:
        cutoff = self._wall() - FORGET_AFTER_SECONDS
        for path, saved in list(files.items()):
            touched = saved.get("touched_at")
            if isinstance(touched, (int, float)) and touched < cutoff:
                del files[path]
        if len(files) > MAX_FILES:
            ordered = sorted(files, key=lambda p: files[p].get("touched_at") or 0)
            for path in ordered[: len(files) - MAX_FILES]:
                del files[path]
