"""The embedded broker's process lifecycle."""

from __future__ import annotations

from winnow.kafka.broker import TansuBroker


def test_start_twice_keeps_one_process_and_stop_ends_it() -> None:
    """``with broker.start():`` starts once; stopping leaves no orphan broker behind."""
    broker = TansuBroker()
    broker.start()
    first = broker._proc
    assert first is not None and first.poll() is None
    with broker:  # __enter__ starts again, as in ``with broker.start():``
        assert broker._proc is first, "a second tansu was spawned"
    assert first.poll() is not None, "the broker outlived stop()"
    assert broker._proc is None
