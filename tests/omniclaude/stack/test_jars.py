"""The Kafka jars: fetched once, each checked against its pinned SHA-256, a bad one refused and not kept."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from omniclaude.stack import jars
from omniclaude.stack.jars import Jar, ensure_kafka_jars, pinned_jars
from omniclaude.stack.process import FetchError

GOOD = b"a jar's bytes"


@pytest.fixture
def one_jar(monkeypatch: pytest.MonkeyPatch) -> Jar:
    jar = Jar("org.apache.kafka", "kafka_2.13", "9.9.9", hashlib.sha256(GOOD).hexdigest())
    monkeypatch.setattr(jars, "pinned_jars", lambda: (jar,))
    return jar


def test_the_pinned_list_names_the_broker_and_a_sha256_per_jar() -> None:
    listed = pinned_jars()
    assert any(jar.artifact == "kafka_2.13" for jar in listed)
    assert all(len(jar.sha256) == 64 and int(jar.sha256, 16) >= 0 for jar in listed)
    assert len({jar.filename for jar in listed}) == len(listed)
    assert listed[0].url().startswith("https://repo1.maven.org/maven2/")


def test_fetches_once_then_reuses_the_cache(tmp_path: Path, one_jar: Jar) -> None:
    fetched: list[str] = []

    def download(url: str, target: Path) -> None:
        fetched.append(url)
        target.write_bytes(GOOD)

    folder = ensure_kafka_jars(tmp_path, download=download)
    assert (folder / one_jar.filename).read_bytes() == GOOD
    assert fetched == [one_jar.url()]
    assert ensure_kafka_jars(tmp_path, download=download) == folder
    assert len(fetched) == 1


def test_a_jar_with_the_wrong_checksum_is_refused_and_not_kept(tmp_path: Path, one_jar: Jar) -> None:
    def tampered(url: str, target: Path) -> None:
        target.write_bytes(b"something else")

    with pytest.raises(FetchError, match="not the pinned"):
        ensure_kafka_jars(tmp_path, download=tampered)
    folder = tmp_path / "kafka-9.9.9" / "jars"
    assert list(folder.iterdir()) == []


def test_a_jar_altered_in_the_cache_is_fetched_again(tmp_path: Path, one_jar: Jar) -> None:
    def download(url: str, target: Path) -> None:
        target.write_bytes(GOOD)

    folder = ensure_kafka_jars(tmp_path, download=download)
    (folder / one_jar.filename).write_bytes(b"corrupted")
    (folder / ".complete").unlink()
    ensure_kafka_jars(tmp_path, download=download)
    assert (folder / one_jar.filename).read_bytes() == GOOD
