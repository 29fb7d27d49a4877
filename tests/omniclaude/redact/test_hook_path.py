"""The corpus through the real hook command, the real spool and the real `Forwarder`, once per position.

Each position gets one hook run that carries every positive case (and one that carries every negative),
joined by blank lines; input that is not JSON is kept only up to the hook's preview size, so it is sent in
chunks. The runs go in parallel. The forwarder drains the spool into a memory sink; no 12-character piece
of a secret may be in any record, and each negative must come out as it went in.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from omniclaude.forwarder.run import Forwarder, RunOptions
from omniclaude.hook import RAW_PREVIEW_CHARS

from tests.omniclaude.forwarder.helpers import MemorySink, make_settings
from tests.omniclaude.redact import corpus
from tests.omniclaude.redact.fakes import Case
from tests.omniclaude.redact.positions import POSITIONS, outgoing_strings
from tests.omniclaude.redact.test_corpus import leaks

ROOT = Path(__file__).resolve().parents[3]
SEPARATOR = "\n\n"


def _chunks(cases: list[Case], limit: int) -> Iterator[list[Case]]:
    chunk: list[Case] = []
    size = 0
    for case in cases:
        if chunk and size + len(case.text) + len(SEPARATOR) > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(case)
        size += len(case.text) + len(SEPARATOR)
    if chunk:
        yield chunk


def _run_hook(event: str, stdin: bytes, home: Path) -> None:
    env = {"PATH": os.environ["PATH"], "OMNICLAUDE_HOME": str(home), "HOME": str(home),
           "CLAUDE_PLUGIN_ROOT": str(ROOT), "OMNICLAUDE_PYTHON": sys.executable}  # fmt: skip
    command = f'"{ROOT}/hooks/run" hooks/capture.py {event}'
    result = subprocess.run(["sh", "-c", command], input=stdin, env=env, capture_output=True, timeout=60)
    assert result.returncode == 0 and result.stdout == b"" and result.stderr == b"", result.stderr


def test_corpus_through_the_real_hook_and_forwarder(tmp_path: Path) -> None:
    home = tmp_path / "oc"
    runs: list[tuple[str, str, list[Case]]] = []  # (position, text, cases)
    for name, _position in POSITIONS.items():
        limit = RAW_PREVIEW_CHARS - 64 if name == "not-json" else 200_000
        for cases in (corpus.POSITIVES, corpus.NEGATIVES):
            for chunk in _chunks(cases, limit):
                tag = f"batch-{len(runs)}"  # finds the run again in its record
                runs.append((name, SEPARATOR.join([tag, *(case.text for case in chunk)]), chunk))
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda run: _run_hook(POSITIONS[run[0]].event, POSITIONS[run[0]].stdin(run[1]), home), runs))

    settings = make_settings(home)
    sink = MemorySink()
    spool = home / "state" / "spool"
    result = Forwarder([str(spool)], settings, sink=sink).run(RunOptions(until_empty=True, idle_seconds=0))
    assert result.reason == "drained", result
    assert len(sink.records) == len(runs)

    leaked: list[tuple[str, str, str]] = []
    changed: list[tuple[str, str]] = []
    for record in sink.records:
        strings = list(outgoing_strings(record))
        [index] = {int(tag) for tag in re.findall(r"batch-(\d+)", record.value.decode())}
        name, _text, cases = runs[index]
        if cases[0].secrets:
            leaked += [(name, case.family, piece) for case in cases for piece in leaks(case, strings)[:1]]
        else:
            out = POSITIONS[name].extract(json.loads(record.value)).split(SEPARATOR)[1:]
            changed += [(name, case.text) for case in cases if case.text not in out]
    assert leaked == []
    assert changed == []
