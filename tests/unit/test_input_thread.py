"""The dashboard's input loop (`TerminalDriver.run_input_thread`), fed through a pipe in
place of the terminal: keys arrive whole, a lone Esc is a key once nothing follows it, the
end of input does not end the loop, and setting the exit event stops it at once."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import AsyncIterator

import pytest
from textual import events
from textual.app import App
from textual.message import Message

from tui.terminal import TerminalDriver

WAIT_S = 10.0
"""A correctness bound: what never comes fails the test, whatever the machine's speed."""


class _Driver(TerminalDriver):
    """The driver with what it would hand the app kept in a list instead."""

    def __init__(self) -> None:
        super().__init__(App())
        self.received: list[Message] = []
        self.arrived = threading.Condition()

    def process_message(self, message: Message) -> None:
        with self.arrived:
            self.received.append(message)
            self.arrived.notify_all()

    def keys(self, count: int) -> list[str]:
        """The first ``count`` keys' characters, once they have come."""
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self._keys()) >= count, WAIT_S), (
                f"only {self._keys()} came"
            )
            return self._keys()[:count]

    def _keys(self) -> list[str]:
        return [m.key for m in self.received if isinstance(m, events.Key)]


@pytest.fixture
async def fed() -> AsyncIterator[tuple[_Driver, int, threading.Thread]]:
    """A driver reading a pipe in its input thread, and the pipe's end to write keys to
    (made in a running event loop, as Textual makes its drivers)."""
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    read_end, write_end = os.pipe()
    driver = _Driver()
    driver.fileno = read_end
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        yield driver, write_end, thread
    finally:
        driver.exit_event.set()
        thread.join(WAIT_S)
        driver.exit_event.close()
        for fd in (read_end, write_end):
            with contextlib.suppress(OSError):  # closed by the test
                os.close(fd)
        for sig, handler in handlers.items():  # the driver installs its own
            signal.signal(sig, handler)


async def test_keys_arrive_and_a_character_split_between_reads_comes_whole(
    fed: tuple[_Driver, int, threading.Thread],
) -> None:
    driver, keys, _ = fed
    os.write(keys, b"a")
    assert driver.keys(1) == ["a"]
    os.write(keys, "é".encode()[:1])  # the first byte of two: nothing yet
    time.sleep(0.2)
    os.write(keys, "é".encode()[1:] + b"b")
    assert driver.keys(3) == ["a", "é", "b"]


async def test_a_lone_escape_is_a_key_once_nothing_follows_it(
    fed: tuple[_Driver, int, threading.Thread],
) -> None:
    driver, keys, _ = fed
    os.write(keys, b"\x1b")  # could start a sequence: the parser waits, then it is Esc
    assert driver.keys(1) == ["escape"]


async def test_setting_the_exit_event_stops_the_loop_even_after_the_input_ended(
    fed: tuple[_Driver, int, threading.Thread],
) -> None:
    driver, keys, thread = fed
    os.write(keys, b"q")
    assert driver.keys(1) == ["q"]
    os.close(keys)  # end of input: the loop goes on, waiting only for the order to stop
    time.sleep(0.2)
    assert thread.is_alive()
    driver.exit_event.set()
    thread.join(WAIT_S)
    assert not thread.is_alive(), "the input thread did not stop"
