"""The Apache Kafka broker's jars: fetched once from Maven Central into the user cache dir, checksummed.

The classpath is pinned in ``kafka-jars.txt`` beside this module: one ``group:artifact:version sha256``
line per jar. :func:`ensure_kafka_jars` downloads each jar from Maven Central over HTTPS into
``<cache dir>/kafka-<version>/jars/``, refuses any whose SHA-256 differs from the pinned one (a
:class:`FetchError` naming it; nothing is kept), and writes a marker only once every jar is in place, so
an interrupted fetch is redone and later calls cost one file read. A file lock serialises concurrent
fetches (two ``stack up`` at once, or parallel test runs).
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from omniclaude.stack.process import FetchError

__all__ = ["MAVEN_CENTRAL", "Jar", "ensure_kafka_jars", "kafka_version", "pinned_jars"]

MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
_LIST = "kafka-jars.txt"
_MARKER = ".complete"
_BROKER_ARTIFACT = "kafka_2.13"
_TIMEOUT_S = 60.0

Download = Callable[[str, Path], None]


@dataclass(frozen=True)
class Jar:
    """One pinned jar: Maven coordinates and the SHA-256 of its bytes."""

    group: str
    artifact: str
    version: str
    sha256: str

    @property
    def filename(self) -> str:
        """``artifact-version.jar``."""
        return f"{self.artifact}-{self.version}.jar"

    def url(self, repository: str = MAVEN_CENTRAL) -> str:
        """Where the jar lives in a Maven repository."""
        return f"{repository}/{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.filename}"


def _list_text() -> str:
    return resources.files("omniclaude.stack").joinpath(_LIST).read_text(encoding="utf-8")


@functools.cache
def pinned_jars() -> tuple[Jar, ...]:
    """The jars of ``kafka-jars.txt``, in file order."""
    jars = []
    for line in _list_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        coordinates, digest = text.split()
        group, artifact, version = coordinates.split(":")
        jars.append(Jar(group, artifact, version, digest.lower()))
    return tuple(jars)


def kafka_version() -> str:
    """The pinned Kafka version (the broker jar's)."""
    for jar in pinned_jars():
        if jar.artifact == _BROKER_ARTIFACT:
            return jar.version
    raise FetchError(f"{_LIST} names no {_BROKER_ARTIFACT} jar")


def _list_digest() -> str:
    return hashlib.sha256(_list_text().encode("utf-8")).hexdigest()


def _http_download(url: str, target: Path) -> None:
    import httpx

    try:
        with httpx.stream("GET", url, timeout=_TIMEOUT_S, follow_redirects=True) as response:
            if response.status_code != 200:
                raise FetchError(f"{url} answered HTTP {response.status_code}")
            with target.open("wb") as handle:
                for chunk in response.iter_bytes(1 << 16):
                    handle.write(chunk)
    except httpx.HTTPError as exc:
        raise FetchError(f"cannot download {url}: {exc}") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_kafka_jars(
    cache_dir: Path,
    *,
    download: Download = _http_download,
    repository: str = MAVEN_CENTRAL,
    on_fetch: Callable[[str], None] | None = None,
) -> Path:
    """The directory holding the broker's classpath, fetching what is missing on first use.

    ``on_fetch`` is called with one line before a download starts. Raises :class:`FetchError` when a
    download fails or a jar's SHA-256 is not the pinned one.
    """
    home = cache_dir / f"kafka-{kafka_version()}"
    jars_dir = home / "jars"
    marker = jars_dir / _MARKER
    wanted = _list_digest()

    def complete() -> bool:
        try:
            return marker.read_text(encoding="utf-8").strip() == wanted
        except OSError:
            return False

    if complete():
        return jars_dir
    jars_dir.mkdir(parents=True, exist_ok=True)
    with (home / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if complete():
            return jars_dir
        missing = [
            jar
            for jar in pinned_jars()
            if not (jars_dir / jar.filename).is_file() or _sha256(jars_dir / jar.filename) != jar.sha256
        ]
        if missing and on_fetch is not None:
            on_fetch(f"fetching {len(missing)} Kafka {kafka_version()} jar(s) from {repository} into {jars_dir}")
        for jar in missing:
            partial = jars_dir / f"{jar.filename}.part"
            try:
                download(jar.url(repository), partial)
                got = _sha256(partial)
                if got != jar.sha256:
                    raise FetchError(
                        f"{jar.url(repository)} has SHA-256 {got}, not the pinned {jar.sha256}: refused "
                        "(a proxy or mirror altered it); nothing was kept"
                    )
                os.replace(partial, jars_dir / jar.filename)
            finally:
                partial.unlink(missing_ok=True)
        known = {jar.filename for jar in pinned_jars()}
        for path in jars_dir.glob("*.jar"):
            if path.name not in known:
                path.unlink()
        marker.write_text(wanted + "\n", encoding="utf-8")
    return jars_dir
