from omniclaude_consumer.commit import OffsetTracker
from omniclaude_consumer.message import Message, Partition

A = Partition("t", 0)
B = Partition("t", 1)


def _messages(partition: Partition, *offsets: int) -> list[Message]:
    return [Message(partition.topic, partition.partition, o, None, b"x") for o in offsets]


def test_commits_the_offset_after_the_highest_durable_message_per_partition() -> None:
    tracker = OffsetTracker()
    tracker.mark_durable(_messages(A, 5, 3, 4) + _messages(B, 10))
    assert tracker.to_commit() == {A: 6, B: 11}
    tracker.committed({A: 6, B: 11})
    assert tracker.to_commit() == {}
    assert tracker.committed_offset(A) == 6


def test_only_partitions_with_new_durable_messages_are_committed() -> None:
    tracker = OffsetTracker()
    tracker.mark_durable(_messages(A, 1) + _messages(B, 1))
    tracker.committed(tracker.to_commit())
    tracker.mark_durable(_messages(B, 2))
    assert tracker.to_commit() == {B: 3}


def test_offsets_never_go_backwards() -> None:
    tracker = OffsetTracker()
    tracker.mark_durable(_messages(A, 9))
    tracker.committed({A: 10})
    tracker.mark_durable(_messages(A, 4))  # a re-delivery
    assert tracker.to_commit() == {}
    tracker.committed({A: 5})
    assert tracker.committed_offset(A) == 10


def test_forget_drops_revoked_partitions() -> None:
    tracker = OffsetTracker()
    tracker.mark_durable(_messages(A, 1) + _messages(B, 1))
    tracker.forget([A])
    assert tracker.to_commit() == {B: 2}
    assert tracker.committed_offset(A) is None
