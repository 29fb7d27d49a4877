"""The consumer's entry point: the garbage collector tuning shared with the benchmark."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from omniclaude_consumer.__main__ import GC_YOUNG_THRESHOLD, tune_gc


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_tune_gc_freezes_start_up_objects_and_spaces_out_young_collections() -> None:
    older = gc.get_threshold()[1:]
    tune_gc()
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (GC_YOUNG_THRESHOLD, *older)
