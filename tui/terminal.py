"""The terminal the dashboard draws on, and what happens when it goes away under it.

When an on-call engineer's SSH connection dropped (or tmux was killed), Textual 8.2.8's
`LinuxDriver` could hang the dashboard's exit for good, so the app, its hub and the demo's
simulator went on polling the fleet until someone sent SIGKILL:

* A hang-up comes as SIGHUP *and* SIGCONT. The driver takes every SIGCONT for "resumed
  after Ctrl-Z" and enters application mode again, on a terminal that is gone: it starts a
  second writer thread, whose first write fails (EIO) and ends it.
* A writer thread that has ended leaves its bounded queue (30 writes) with nobody to empty
  it. The frames still drawn and the exit's restore sequences fill it, and the next write,
  or the ``None`` that `LinuxDriver.close` puts to stop the thread, waits forever.

`TerminalDriver` takes the terminal again only after a stop it made itself, and its writer
thread writes through `TerminalOutput`, which never raises: once the terminal fails a write
it is gone, the rest is dropped, and the app hears of it (`TerminalGone`), so it exits even
when no SIGHUP reaches it (a dashboard under a shell that does not pass the hang-up on).

Its input thread also sleeps until something comes: Textual's wakes ten times a second to
see whether it should stop, about 0.15% of a core on an idle dashboard, as much as the
flight recorder costs (see `TerminalDriver.run_input_thread`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
from codecs import getincrementaldecoder
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

from tui.subscriber import name_os_thread

if TYPE_CHECKING:
    from textual.app import App


class TerminalGone(Message):
    """The terminal failed a write: it was closed or hung up, and nothing reaches it now."""

    def __init__(self, why: str) -> None:
        """``why``: the write's error (``Input/output error``)."""
        super().__init__()
        self.why = why


class TerminalOutput:
    """What Textual's writer thread writes to: the terminal, until a write fails.

    A failed write or flush (EIO once the terminal hangs up) marks the terminal `gone`,
    calls `on_gone` once, and every later write is dropped, so the thread goes on emptying
    its queue instead of ending on the error.
    """

    def __init__(self, file: IO[str]) -> None:
        """``file``: the terminal (Textual writes to stderr)."""
        self._file = file
        self.gone: str | None = None
        """Why the terminal is gone (the failed write's error); None while it is there."""
        self.on_gone: Callable[[str], None] | None = None
        """Called once, in the writer thread, when the terminal is found gone."""

    def write(self, text: str) -> int:
        """Write ``text`` to the terminal, or drop it once the terminal is gone."""
        if self.gone is None:
            try:
                self._file.write(text)
            except OSError as error:
                self._lost(error)
        return len(text)

    def flush(self) -> None:
        """Send what is written to the terminal (nothing once it is gone)."""
        if self.gone is None:
            try:
                self._file.flush()
            except OSError as error:
                self._lost(error)

    def fileno(self) -> int:
        """The terminal's file descriptor."""
        return self._file.fileno()

    def _lost(self, error: OSError) -> None:
        self.gone = error.strerror or str(error)
        if self.on_gone is not None:
            self.on_gone(self.gone)


class WakingEvent(threading.Event):
    """An `Event` that, once set, also makes its pipe (`fileno`) readable, so a thread
    waiting in ``select()`` on that pipe beside its input wakes for it at once."""

    def __init__(self) -> None:
        """A cleared event and an empty pipe."""
        super().__init__()
        self._read_end, self._write_end = os.pipe()
        os.set_blocking(self._read_end, False)
        os.set_blocking(self._write_end, False)
        self._closed = False

    def fileno(self) -> int:
        """The pipe's end that is readable while the event is set."""
        return self._read_end

    def set(self) -> None:
        """Set the event and wake whoever selects on `fileno`."""
        super().set()
        if not self._closed:
            with contextlib.suppress(OSError):  # the pipe is full: it is readable already
                os.write(self._write_end, b"\0")

    def clear(self) -> None:
        """Clear the event and empty the pipe."""
        super().clear()
        with contextlib.suppress(OSError):  # BlockingIOError once it is empty
            while not self._closed and os.read(self._read_end, 512):
                pass

    def close(self) -> None:
        """Close the pipe; setting the event afterwards writes nowhere."""
        if not self._closed:
            self._closed = True
            os.close(self._read_end)
            os.close(self._write_end)


class TerminalDriver(LinuxDriver):
    """Textual's Linux driver, made safe for a terminal that goes away (see the module)."""

    def __init__(
        self,
        app: App[Any],
        *,
        debug: bool = False,
        mouse: bool = True,
        size: tuple[int, int] | None = None,
    ) -> None:
        """As `LinuxDriver`; its writer thread writes through `output`."""
        super().__init__(app, debug=debug, mouse=mouse, size=size)
        assert self._file is not None, "Textual draws on stderr, and it is closed"
        self.output = TerminalOutput(self._file)
        self.output.on_gone = self._terminal_gone
        self._file = self.output  # type: ignore[assignment]  # a file to the writer thread
        self._stopped_itself = False  # by Ctrl-Z (SIGTSTP), so the next SIGCONT resumes
        # setting it wakes the input thread; its pipe lives as long as the driver
        self.exit_event: WakingEvent = WakingEvent()

    def write(self, data: str) -> None:
        """Queue ``data`` for the terminal; dropped once it is gone or while no writer
        thread runs to empty the queue (one that waits on a full queue waits forever)."""
        writer = self._writer_thread
        if self.output.gone is None and writer is not None and writer.is_alive():
            writer.write(data)

    def close(self) -> None:
        """Stop the writer thread once it has written what is queued; nothing to stop if
        it has ended (the ``None`` that stops it would wait on its queue forever)."""
        writer = self._writer_thread
        if writer is not None and writer.is_alive():
            super().close()
        # The exit event's pipe stays open: Textual closes the driver on a suspend (Ctrl-Z,
        # SIGTSTP) and starts it again on SIGCONT, whose input thread selects on it again.

    def run_input_thread(self) -> None:
        """Textual's input loop (`LinuxDriver.run_input_thread`), asleep until a key, a
        reply from the terminal or the order to stop comes.

        Textual's loop wakes every 0.1 s to check `exit_event`; setting this driver's wakes
        it through a pipe instead. It still wakes by the clock while the key parser waits
        out an escape sequence: a lone Esc is a key only once no byte follows it in time.
        """
        name_os_thread("textual-input")
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        stop = self.exit_event
        with selectors.SelectSelector() as selector:  # select(): any tty, pipe or pty
            selector.register(self.fileno, selectors.EVENT_READ)
            selector.register(stop.fileno(), selectors.EVENT_READ)
            try:
                while not stop.is_set():
                    for key, _ in selector.select(self._wait_for(parser)):
                        if key.fd != self.fileno:
                            continue  # the stop pipe: the loop's test ends it
                        data = os.read(self.fileno, 4096)
                        if not data:  # end of input (a pipe): nothing more will come
                            selector.unregister(self.fileno)
                            continue
                        text = decode(data)  # "" for the first part of a split character
                        for event in parser.feed(text) if text else ():  # "" would end it
                            self.process_message(event)
                    for event in parser.tick():
                        self.process_message(event)
            finally:
                with contextlib.suppress(EOFError, ParseError):
                    for _ in parser.feed(""):
                        pass

    @staticmethod
    def _wait_for(parser: XTermParser) -> float | None:
        """How long the input thread may sleep: until the parser's pending escape sequence
        times out, or (None) until something comes. An unknown parser is polled as
        Textual polls it, every 0.1 s."""
        deadline: float | None = getattr(parser, "_timeout_time", get_time() + 0.1)
        return None if deadline is None else max(0.0, deadline - get_time())

    def _sigtstp_application(self, *_: Any) -> None:
        """SIGTSTP (Ctrl-Z): Textual gives the terminal back and stops the process; that
        this stop was ours is kept, so the SIGCONT that ends it takes the terminal again."""
        self._stopped_itself = self._auto_restart
        super()._sigtstp_application()

    def _sigcont_application(self, *_: Any) -> None:
        """SIGCONT: take the terminal again only after a stop of ours, and only if the
        terminal is still there. Every hang-up sends SIGCONT too, and so may ``kill``."""
        if not self._stopped_itself:
            return
        self._stopped_itself = False
        if self.output.gone is None and os.isatty(self.fileno):  # EIO after a hang-up
            super()._sigcont_application()

    def _terminal_gone(self, why: str) -> None:
        """In the writer thread: tell the app, which exits as on a hang-up."""
        with contextlib.suppress(RuntimeError):  # its event loop has closed: it has exited
            self._app.post_message(TerminalGone(why))
