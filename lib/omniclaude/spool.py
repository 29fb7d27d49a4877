"""The local spool: an append-only, crash-safe queue of event lines on disk. Standard library only.

Layout of a spool folder (0700; files 0600):
  NNNNNNNNNNNNNNNNNNNN.jsonl   segments, numbered in order; writers append to the newest one
  NNNNNNNNNNNNNNNNNNNN.sealed  a segment the reader closed to writers; deleted once shipped
  cursor                       "<segment> <offset>": what the reader has shipped (written atomically)
  dropped.log, errors.log      one line per event dropped by the cap, per line skipped as unreadable
  quarantine.jsonl             the unreadable lines themselves, as they were (capped at QUARANTINE_MAX_BYTES)
  forwarder.lock, forwarder.state   held and written by the running forwarder
  forwarder.log, forwarder.log.1    the detached forwarder's log (never read back)

Writers (`Spool.append`) take an exclusive lock (`_lock`) on the segment for one `write()` of a whole line, so
readers never see interleaved lines. A writer killed mid-write can leave a torn tail; the next writer ends
it with a newline first, so the fragment becomes one unreadable line that the reader skips and counts,
never a glued pair. A segment is renamed to `.sealed` under its lock before its last bytes are read, and a
writer re-checks after locking that its file is still the live segment, so nothing lands in a sealed file.
When a new segment would take the spool over its cap, the oldest segments are dropped and counted.

Safety: the folder (and, for the temp-dir fallback, every folder from `root` down) must be this user's
and private, and every file is opened with O_NOFOLLOW and checked with one `fstat` (`paths.open_private`);
new files are created exclusively. A writer that meets an unsafe live segment starts the next one; the
reader skips an unsafe segment (counted in errors.log) and refuses a spool whose cursor is unsafe.
"""

from __future__ import annotations

import os
import stat
import sys
import time

from omniclaude import _fastjson, _lock
from omniclaude.paths import UnsafePathError, check_dir, ensure_dir, open_private, unsafe_reason

TYPE_CHECKING = False  # not `typing`'s: the hook imports this module and must start fast
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SEGMENT_SUFFIX = ".jsonl"
SEALED_SUFFIX = ".sealed"
_SEQ_DIGITS = 20
_MAX_SEGMENT_BYTES = 8 * 1024 * 1024
_MIN_SEGMENT_BYTES = 64 * 1024
_FILE_MODE = 0o600
FORWARDER_LOG = "forwarder.log"
QUARANTINE_NAME = "quarantine.jsonl"
QUARANTINE_MAX_BYTES = 64 * 1024 * 1024


class SpoolError(OSError):
    """The spool could not be written."""


def segment_bytes_for(cap: int) -> int:
    """Returns the segment size used under a spool cap: a sixteenth of it, within [64 KiB, 8 MiB]."""
    return max(_MIN_SEGMENT_BYTES, min(_MAX_SEGMENT_BYTES, cap // 16))


def _segment_name(seq: int, sealed: bool = False) -> str:
    return f"{seq:0{_SEQ_DIGITS}d}{SEALED_SUFFIX if sealed else SEGMENT_SUFFIX}"


def list_segments(directory: str) -> list[tuple[int, str, bool]]:
    """Returns (sequence, path, sealed) for every segment, oldest first; [] if the folder is missing."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found = []
    for name in names:
        stem, dot, suffix = name.partition(".")
        if len(stem) != _SEQ_DIGITS or not stem.isdigit() or f"{dot}{suffix}" not in (SEGMENT_SUFFIX, SEALED_SUFFIX):
            continue
        found.append((int(stem), os.path.join(directory, name), suffix == "sealed"))
    found.sort()
    return found


def unsafe_entries(directory: str) -> list[str]:
    """Returns one line per reason the spool folder, or a file in it, must not be used (none when all is
    safe or the folder is missing): for `status` and `doctor`."""
    try:
        check_dir(directory)
        names = sorted(os.listdir(directory))
    except UnsafePathError as exc:
        return [str(exc)]
    except OSError:
        return []  # missing, or not a folder: `doctor` says so on its own
    problems = []
    for name in names:
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        reason = unsafe_reason(st, mode_ok=name.startswith(FORWARDER_LOG))  # a log is made private on use
        if reason is None and not stat.S_ISREG(st.st_mode):
            reason = "it is not a regular file"
        if reason is not None:
            problems.append(str(UnsafePathError(path, reason)))
    return problems


def append_log(path: str, fields: list[str]) -> None:
    """Appends one space-separated line (time first) to a counter log; raises OSError."""
    line = " ".join([f"{time.time():.3f}", *(field.replace("\n", " ") for field in fields)]) + "\n"
    fd, _st = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, _FILE_MODE)
    try:
        os.write(fd, line.encode("utf-8", "replace"))
    finally:
        os.close(fd)


def write_new(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a fresh, exclusively created temporary file (fsynced, then renamed
    over `path`); a symbolic link or stray file at the temporary name is removed first. Raises OSError."""
    tmp = path + ".tmp"
    try:
        os.unlink(tmp)
    except FileNotFoundError:
        pass
    fd, _st = open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _read_private(path: str, start: int = 0, limit: int = -1) -> bytes:
    fd, _st = open_private(path, os.O_RDONLY)
    with os.fdopen(fd, "rb") as handle:
        handle.seek(start)
        return handle.read(limit)


def _last_byte(fd: int, size: int) -> bytes:
    os.lseek(fd, size - 1, os.SEEK_SET)  # not os.pread, which Windows lacks
    return os.read(fd, 1)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Spool:
    """One spool folder. Cheap to construct: nothing is touched until the first `append`."""

    def __init__(
        self,
        directory: str,
        max_bytes: int = 512 * 1024 * 1024,
        segment_bytes: int | None = None,
        root: str | None = None,
    ) -> None:
        self.directory = directory
        self.root = root
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or segment_bytes_for(max_bytes)
        self._ready = False

    def path(self, name: str) -> str:
        """Returns the path of a file inside the spool folder."""
        return os.path.join(self.directory, name)

    def ensure(self) -> None:
        """Creates the folder (0700) if needed and checks that it is safe (from `root` down, see
        `paths.ensure_dir`) and writable; raises OSError (UnsafePathError when it must not be used)."""
        if self._ready:
            return
        ensure_dir(self.directory, self.root)
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise PermissionError(f"spool folder is not writable: {self.directory}")
        self._ready = True

    def append(self, line: bytes) -> None:
        """Appends one complete line (it must end in a newline and hold no other). Raises OSError."""
        self.ensure()
        for _attempt in range(16):
            segments = [seg for seg in list_segments(self.directory) if not seg[2]]
            if not segments:
                self._create(1 + max((seq for seq, _p, _s in list_segments(self.directory)), default=0))
                continue
            seq, path, _sealed = segments[-1]
            if self._append_to(seq, path, line):
                return
        raise SpoolError(f"spool is busy: {self.directory}")

    def _append_to(self, seq: int, path: str, line: bytes) -> bool:
        try:
            fd, _st = open_private(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            return False
        except UnsafePathError as exc:
            self._refuse(seq, exc)
            return False
        try:
            _lock.lock(fd)
            st = os.fstat(fd)
            size = st.st_size
            try:
                if os.stat(path).st_ino != st.st_ino:
                    return False
            except FileNotFoundError:
                return False
            if size and size + len(line) > self.segment_bytes:
                self._create(seq + 1)
                return False
            if size and _last_byte(fd, size) != b"\n":
                line = b"\n" + line
            _write_all(fd, line)
            return True
        finally:
            os.close(fd)

    def _refuse(self, seq: int, error: UnsafePathError) -> None:
        """Leaves an unsafe live segment alone, counted in errors.log, and starts the next segment."""
        append_log(self.path("errors.log"), ["unsafe-file", _segment_name(seq), str(error.strerror)])
        self._create(1 + max((known for known, _p, _s in list_segments(self.directory)), default=seq))

    def _create(self, seq: int) -> None:
        try:
            fd, _st = open_private(self.path(_segment_name(seq)), os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        except FileExistsError:
            return
        os.close(fd)
        self._enforce_cap()

    def _enforce_cap(self) -> None:
        segments = list_segments(self.directory)
        sizes = []
        for seq, path, sealed in segments:
            try:
                sizes.append((seq, path, sealed, os.lstat(path).st_size))  # a link's own size, not its target's
            except OSError:
                continue
        total = sum(size for *_rest, size in sizes)
        for _seq, path, _sealed, size in sizes[:-1]:
            if total <= self.max_bytes:
                break
            try:
                events = _read_private(path).count(b"\n")
                os.unlink(path)
            except OSError:
                continue
            total -= size
            append_log(self.path("dropped.log"), [str(events), str(size), os.path.basename(path)])


class Position:
    """A place in the spool: a segment number and a byte offset inside it."""

    __slots__ = ("offset", "seq")

    def __init__(self, seq: int, offset: int) -> None:
        self.seq = seq
        self.offset = offset

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Position) and (self.seq, self.offset) == (other.seq, other.offset)

    def __hash__(self) -> int:
        return hash((self.seq, self.offset))

    def __repr__(self) -> str:
        return f"Position({self.seq}, {self.offset})"


class Batch:
    """What was read from the spool, and where reading stopped: the parsed envelopes in spool order; or,
    read with `parse=False`, every non-blank line, unparsed and unchecked (`lines`), and the offset of
    each in its segment (`starts`)."""

    __slots__ = ("end", "events", "lines", "skipped", "starts")

    def __init__(
        self,
        events: list[dict[str, object]],
        end: Position,
        skipped: int,
        lines: list[bytes] | None = None,
        starts: list[int] | None = None,
    ) -> None:
        self.events = events
        self.lines = lines if lines is not None else []
        self.starts = starts if starts is not None else []
        self.end = end
        self.skipped = skipped


class SpoolReader:
    """Reads a spool in order and remembers what was shipped. One reader per spool (the forwarder).

    `read()` returns the next events after the cursor; `commit(batch.end)` records them as shipped and
    deletes finished segments. Nothing is consumed until it is committed, so a crash re-reads at most
    the uncommitted batch. Unreadable lines (torn, not UTF-8, not JSON, not an object with an event_id,
    nested deeper than `_fastjson.EVENT_MAX_DEPTH`, or anything else parsing them raises, RecursionError
    and MemoryError included) are skipped: counted in errors.log (one line each: segment, offset, why)
    and copied as they were to quarantine.jsonl while it is under `QUARANTINE_MAX_BYTES`.
    `Batch.skipped` counts those first met by this reader: a batch read again after a failed delivery
    does not count (or quarantine) them twice. Raises OSError
    when the spool cannot be read.

    `loads` parses one line's bytes, raising what `_fastjson.loads(line.decode("utf-8"))` raises (which
    it is by default; the forwarder gives a faster one with the same results).
    """

    def __init__(self, directory: str, loads: Callable[[bytes], object] | None = None) -> None:
        self.directory = directory
        self._loads = loads or _loads
        self._cursor_path = os.path.join(directory, "cursor")
        try:
            check_dir(directory)
        except FileNotFoundError:
            pass
        self.cursor = self._load_cursor()
        self._noted = (0, 0)  # (segment, offset) up to which unreadable lines were logged and quarantined

    def _load_cursor(self) -> Position:
        try:
            seq, offset = _read_private(self._cursor_path, 0, 64).decode("ascii").split()
            return Position(int(seq), int(offset))
        except FileNotFoundError:
            return Position(0, 0)
        except (ValueError, UnicodeDecodeError):
            append_log(os.path.join(self.directory, "errors.log"), ["cursor", "unreadable cursor file, starting over"])
            return Position(0, 0)

    def _current(self) -> tuple[int, str, bool, list[tuple[int, str, bool]]] | None:
        segments = list_segments(self.directory)
        if not segments:
            return None
        if segments[-1][0] < self.cursor.seq:
            self.cursor = Position(0, 0)
        for seq, path, sealed in segments:
            if seq < self.cursor.seq:
                if sealed:
                    _unlink_quietly(path)
                continue
            if seq > self.cursor.seq:
                self.cursor = Position(seq, 0)
            return seq, path, sealed, segments
        return None

    def seal(self, path: str) -> None:
        """Closes a live segment to writers: renames it to `.sealed` under its lock. A segment that is
        gone already (dropped by the cap) is left alone."""
        try:
            fd, _st = open_private(path, os.O_RDONLY)
        except (FileNotFoundError, UnsafePathError):
            return
        target = path[: -len(SEGMENT_SUFFIX)] + SEALED_SUFFIX
        try:
            _lock.lock(fd)
            if sys.platform != "win32":
                os.rename(path, target)
        except FileNotFoundError:
            pass
        finally:
            os.close(fd)
        if sys.platform == "win32":  # Windows renames no open file: a writer that has it open makes this fail
            try:
                os.rename(path, target)
            except OSError:
                pass

    def read(
        self,
        max_events: int = 5000,
        max_bytes: int = 4 * 1024 * 1024,
        on_lines: Callable[[list[bytes]], object] | None = None,
        every: int = 250,
        parse: bool = True,
    ) -> Batch:
        """Returns up to `max_events` events after the cursor (possibly none). With `parse=False` it
        returns up to `max_events` lines instead, neither parsed nor checked: the caller parses them
        (`event_or_problem`) and reports those that are not events (`unreadable`); while it reads, each
        `every` lines are handed to `on_lines` (the rest only in the batch), so that a caller can start
        working on the first ones."""
        while True:
            current = self._current()
            if current is None:
                return Batch([], self.cursor, 0)
            seq, path, sealed, segments = current
            newer_exists = segments[-1][0] > seq
            try:
                fd, _st = open_private(path, os.O_RDONLY)
            except FileNotFoundError:
                continue  # sealed or dropped by the cap meanwhile: look again
            except UnsafePathError as exc:
                if not newer_exists:
                    return Batch([], self.cursor, 0)  # the next writer starts a safe segment after it
                errors = os.path.join(self.directory, "errors.log")
                append_log(errors, ["unsafe-file", os.path.basename(path), str(exc.strerror)])
                self.commit(Position(seq + 1, 0))
                continue
            with os.fdopen(fd, "rb") as handle:
                handle.seek(self.cursor.offset)
                data = handle.read(max_bytes)
                at_eof = len(data) < max_bytes and not handle.read(1)
            end = data.rfind(b"\n") + 1
            if sealed and at_eof:
                end = len(data)
            if end == 0:
                if sealed and at_eof:
                    self._finish(seq, path)
                    continue
                if not sealed and newer_exists and at_eof:
                    self.seal(path)
                    continue
                if len(data) >= max_bytes:
                    end = len(data)  # one line longer than max_bytes: skip it as unreadable
                else:
                    return Batch([], self.cursor, 0)  # a line still being written: wait for its newline
            if not parse:
                return self._split(seq, data[:end], max_events, on_lines, every)
            return self._parse(seq, data[:end], max_events)

    def _parse(self, seq: int, data: bytes, max_events: int) -> Batch:
        events: list[dict[str, object]] = []
        skipped = 0
        offset = self.cursor.offset
        end = 0
        for start, raw in _lines(data):
            if len(events) >= max_events:
                break
            end = start + len(raw) + 1
            if not raw.strip():
                continue
            problem = event_or_problem(raw, self._loads)
            if isinstance(problem, dict):
                events.append(problem)
            elif self._note_unreadable(seq, offset + start, raw, problem):
                skipped += 1
        batch_end = Position(seq, offset + min(end, len(data)))
        self._noted = max(self._noted, (batch_end.seq, batch_end.offset))
        return Batch(events, batch_end, skipped)

    def _split(
        self, seq: int, data: bytes, max_events: int, on_lines: Callable[[list[bytes]], object] | None, every: int
    ) -> Batch:
        lines: list[bytes] = []
        starts: list[int] = []
        handed = 0
        offset = self.cursor.offset
        end = 0
        for start, raw in _lines(data):
            if len(lines) >= max_events:
                break
            end = start + len(raw) + 1
            if not raw.strip():
                continue
            lines.append(raw)
            starts.append(offset + start)
            if on_lines is not None and len(lines) - handed >= every:
                on_lines(lines[handed:])
                handed = len(lines)
        return Batch([], Position(seq, offset + min(end, len(data))), 0, lines, starts)

    def unreadable(self, batch: Batch, index: int, problem: str) -> bool:
        """Counts line `index` of a batch read with `parse=False` as unreadable for `problem` (errors.log
        and quarantine.jsonl, as `read` does); False, doing nothing, when it was counted already (a
        batch read again after a failed delivery)."""
        return self._note_unreadable(batch.end.seq, batch.starts[index], batch.lines[index], problem)

    def _note_unreadable(self, seq: int, where: int, raw: bytes, problem: str) -> bool:
        """Lists the unreadable line at `where` in segment `seq` in errors.log and keeps it in quarantine;
        False, doing nothing, when it was listed already."""
        if (seq, where) < self._noted:
            return False
        errors = os.path.join(self.directory, "errors.log")
        append_log(errors, ["unreadable-line", _segment_name(seq), str(where), problem])
        self._quarantine(raw)
        self._noted = (seq, where + 1)
        return True

    def _quarantine(self, raw: bytes) -> None:
        """Keeps an unreadable line in quarantine.jsonl, best effort (errors.log has counted it already)."""
        path = os.path.join(self.directory, QUARANTINE_NAME)
        try:
            try:
                if os.path.getsize(path) + len(raw) > QUARANTINE_MAX_BYTES:
                    return
            except FileNotFoundError:
                pass
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
            try:
                _write_all(fd, raw + b"\n")
            finally:
                os.close(fd)
        except OSError:
            return

    def _finish(self, seq: int, sealed_path: str) -> None:
        _unlink_quietly(sealed_path)
        self.commit(Position(seq + 1, 0))

    def commit(self, end: Position) -> None:
        """Records everything before `end` as shipped (atomically) and deletes finished segments."""
        write_new(self._cursor_path, f"{end.seq} {end.offset}\n".encode("ascii"))
        self.cursor = end

    def pending(self) -> tuple[int, int, str | None]:
        """Returns (events, bytes, first pending line) after the cursor; cheap enough for `status`."""
        events = size = 0
        first: str | None = None
        for seq, path, _sealed in list_segments(self.directory):
            if seq < self.cursor.seq:
                continue
            start = self.cursor.offset if seq == self.cursor.seq else 0
            try:
                data = _read_private(path, start)
            except OSError:
                continue
            size += len(data)
            events += data.count(b"\n")
            if first is None and data.strip():
                first = data.split(b"\n", 1)[0].decode("utf-8", "replace")
        return events, size, first

    def stats(self) -> dict[str, object]:
        """What waits in the spool, for `status`: pending events and bytes, the age in seconds of the oldest
        pending event (None when none or unknown), events dropped by the cap, lines skipped as unreadable,
        and those of them kept in quarantine.jsonl.
        Raises OSError when the spool cannot be read."""
        events, size, first = self.pending()
        return {
            "pending_events": events,
            "pending_bytes": size,
            "oldest_pending_age_s": _age(first),
            "dropped_events": _log_total(os.path.join(self.directory, "dropped.log"), 1),
            "unreadable_lines": _log_total(os.path.join(self.directory, "errors.log"), None, "unreadable-line"),
            "quarantined_lines": quarantined_lines(self.directory),
        }

    def tail(self, count: int) -> list[str]:
        """The last `count` complete lines of the spool (shipped or not), oldest first; [] when empty."""
        lines: list[str] = []
        if count <= 0:
            return lines
        for _seq, path, _sealed in list_segments(self.directory):
            try:
                with open(path, encoding="utf-8", errors="replace", newline="\n") as handle:
                    for line in handle:  # split at "\n" only: a stray "\r" is part of its line
                        if line.endswith("\n") and line.strip():
                            lines.append(line.rstrip("\n"))
                            del lines[:-count]
            except OSError:
                continue
        return lines


def _age(line: str | None) -> float | None:
    """Seconds since a spool line's `occurred_at`; None when the line or its time does not parse."""
    if not line:
        return None
    from datetime import datetime  # only `status` asks: kept off the hook's imports

    try:
        event = _fastjson.loads(line)
        occurred = event["occurred_at"] if isinstance(event, dict) else None
        if not isinstance(occurred, str):
            return None
        return round(time.time() - datetime.fromisoformat(occurred.replace("Z", "+00:00")).timestamp(), 3)
    except Exception:  # any bytes may sit in the spool: not JSON, too deep (RecursionError), wrong types
        return None


def _log_total(path: str, column: int | None, kind: str | None = None) -> int:
    """Sums column `column` of a counter log's lines (None: counts the lines), only lines whose first field
    after the time is `kind` when given. 0 for a missing or unreadable log; bad lines count as 1."""
    total = 0
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                parts = line.split()
                if kind is not None and (len(parts) < 2 or parts[1] != kind):
                    continue
                if column is None:
                    total += 1
                elif len(parts) > column and parts[column].isdigit():
                    total += int(parts[column])
                elif parts:
                    total += 1
    except OSError:
        pass
    return total


def quarantined_lines(directory: str) -> int:
    """Returns how many unreadable lines quarantine.jsonl holds (0 when there is none)."""
    try:
        with open(os.path.join(directory, QUARANTINE_NAME), "rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    except OSError:
        return 0


def _lines(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The offset and the bytes (without the newline) of each line of `data`, blank ones too; the last
    line needs no newline."""
    start = 0
    while start < len(data):
        stop = data.find(b"\n", start)
        stop = len(data) if stop < 0 else stop
        yield start, data[start:stop]
        start = stop + 1


def _loads(raw: bytes) -> object:
    return _fastjson.loads(raw.decode("utf-8"))


def event_or_problem(raw: bytes, loads: Callable[[bytes], object] = _loads) -> dict[str, object] | str:
    """Returns the event of one spool line (parsed by `loads`), or why it is unreadable; never raises."""
    try:
        event = loads(raw)
    except RecursionError:
        return f"nested deeper than {_fastjson.EVENT_MAX_DEPTH} levels"
    except UnicodeDecodeError as exc:
        return f"not UTF-8 ({exc.reason} at byte {exc.start})"
    except Exception as exc:  # ValueError, MemoryError, anything else: a property of this line
        try:
            return f"{type(exc).__name__}: {exc}"[:200]
        except Exception:
            return type(exc).__name__
    if not isinstance(event, dict) or not isinstance(event.get("event_id"), str):
        return "not an event"
    # Each level opens a bracket, so a line with few brackets cannot nest deep: no need to walk it.
    brackets = raw.count(b"{") + raw.count(b"[")
    if brackets > _fastjson.EVENT_MAX_DEPTH and _fastjson.exceeds_depth(event, _fastjson.EVENT_MAX_DEPTH):
        return f"nested deeper than {_fastjson.EVENT_MAX_DEPTH} levels"
    return event


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
