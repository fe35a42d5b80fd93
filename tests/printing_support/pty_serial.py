"""A serial printer on a pseudo-terminal.

``os.openpty()`` gives a real tty device (``/dev/pts/N``) that pyserial opens
like any serial port; a thread on the master side feeds what arrives to a
:class:`VirtualPrinter` and writes its status replies back.
"""

from __future__ import annotations

import os
import select
import threading
import tty
from types import TracebackType

from printing.virtual import VirtualPrinter


class PtySerialPrinter:
    def __init__(self, printer: VirtualPrinter) -> None:
        self.printer = printer
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pty-printer", daemon=True)

    def start(self) -> PtySerialPrinter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self._master)
        os.close(self._slave)

    def __enter__(self) -> PtySerialPrinter:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(self._master, 65536)
            except OSError:
                return
            try:
                self.printer.write(data)
            except ConnectionError:
                continue  # an unplugged printer: bytes go nowhere
            reply = self.printer.drain_replies()
            if reply:
                os.write(self._master, reply)
