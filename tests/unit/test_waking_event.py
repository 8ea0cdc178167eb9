"""`WakingEvent`: the dashboard's input thread selects on its pipe beside the terminal, so
that being told to stop wakes it at once instead of a poll every 0.1 s."""

from __future__ import annotations

import select
import threading

from tui.terminal import WakingEvent


def _readable(event: WakingEvent) -> bool:
    return bool(select.select([event.fileno()], [], [], 0)[0])


def test_setting_it_makes_its_pipe_readable_and_clearing_empties_it() -> None:
    event = WakingEvent()
    try:
        assert not event.is_set() and not _readable(event)
        event.set()
        event.set()  # twice: still one wake, emptied by one clear
        assert event.is_set() and _readable(event)
        event.clear()
        assert not event.is_set() and not _readable(event)
    finally:
        event.close()


def test_a_thread_asleep_in_select_wakes_when_it_is_set() -> None:
    event = WakingEvent()
    woke = threading.Event()

    def sleeper() -> None:
        select.select([event.fileno()], [], [])  # no timeout: only the pipe can wake it
        woke.set()

    thread = threading.Thread(target=sleeper, daemon=True)
    thread.start()
    try:
        assert not woke.wait(0.2)
        event.set()
        assert woke.wait(10), "the sleeping thread was not woken"
    finally:
        event.close()


def test_once_closed_setting_and_clearing_touch_no_file() -> None:
    event = WakingEvent()
    event.close()
    event.close()
    event.set()  # writes nowhere: the pipe's numbers may belong to another file by now
    assert event.is_set()
    event.clear()
    assert not event.is_set()
