"""The spool's Windows branches (simulated by tests/hooks/winsim.py): segments rotate, a live segment is
sealed by renaming it once closed, and the reader drains every event exactly once. Not run on Windows."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WINSIM = ROOT / "tests" / "hooks" / "winsim.py"
DRAIN = """
import json, sys
sys.path.insert(0, LIB)
from omniclaude.spool import Spool, SpoolReader
spool = Spool(SPOOL, max_bytes=64 * 1024 * 1024, segment_bytes=64 * 1024)
reader = SpoolReader(SPOOL)
seen = []
for number in range(3000):
    spool.append(json.dumps({"event_id": str(number), "pad": "x" * 100}).encode() + b"\\n")
    if number % 500 == 499:
        batch = reader.read()
        seen += [event["event_id"] for event in batch.events]
        reader.commit(batch.end)
while True:
    batch = reader.read()
    if not batch.events:
        break
    seen += [event["event_id"] for event in batch.events]
    reader.commit(batch.end)
print(json.dumps({"seen": seen, "platform": sys.platform}))
"""


def test_segments_rotate_seal_and_drain_as_on_windows(tmp_path: Path) -> None:
    script = tmp_path / "drain.py"
    spool = tmp_path / "spool"
    script.write_text(DRAIN.replace("LIB", repr(str(ROOT / "lib"))).replace("SPOOL", repr(str(spool))))
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(WINSIM), str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"WINSIM_REPORT": str(tmp_path / "report")},
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["platform"] == "win32"
    assert out["seen"] == [str(number) for number in range(3000)]
    assert len(list(spool.glob("*.jsonl"))) == 1 and not list(spool.glob("*.sealed"))
