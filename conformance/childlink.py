"""What links a vector run (the pytest child) to the ``appc-conformance run`` that started it.

- ``Progress``: one line per case run to a file the CLI reads while the run goes on
  (``total N`` once collection is over, then ``VERDICT<TAB>CASE-ID [PROFILE]``).
- ``watch_parent(fd, stop)``: the CLI holds the write end of a pipe and never writes to it; its
  end (EOF, when the CLI exits or is killed, even by SIGKILL) means nobody waits for this run
  any more: ``stop`` ends the adapters, and the process exits at once without writing results.
"""

from __future__ import annotations

import os
import threading
import time

EXIT_ORPHANED = 3


class Progress:
    """Written in blocks, at most ``EVERY_S`` apart (a write per case cost as much as the case);
    the reader polls every few seconds and reads whole lines only. A line not yet written is
    written at most ``EVERY_S`` later even when no case follows it (a slow case must not hold
    back the lines of the cases done before it)."""

    EVERY_S = 0.2

    def __init__(self, path: str):
        self._fh = open(path, "a", encoding="utf-8")
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._pending = False
        self._closed = threading.Event()
        threading.Thread(target=self._flusher, name="appc-progress", daemon=True).start()

    def _flusher(self) -> None:
        while not self._closed.wait(self.EVERY_S):
            with self._lock:
                if self._pending and not self._closed.is_set():
                    self._fh.flush()
                    self._pending = False
                    self._last = time.monotonic()

    def total(self, n: int) -> None:
        with self._lock:
            self._fh.write(f"total\t{n}\n")
            self._fh.flush()

    def case(self, verdict: str, case_id: str, profile: str) -> None:
        with self._lock:
            self._fh.write(f"{verdict}\t{case_id} [{profile}]\n")
            now = time.monotonic()
            if now - self._last >= self.EVERY_S:
                self._fh.flush()
                self._last = now
                self._pending = False
            else:
                self._pending = True

    def close(self) -> None:
        with self._lock:
            self._closed.set()
            self._fh.close()


def watch_parent(fd: int, stop) -> threading.Thread:
    def watch():
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        closer = threading.Thread(target=stop, daemon=True)
        closer.start()
        closer.join(2.0)
        os._exit(EXIT_ORPHANED)

    t = threading.Thread(target=watch, name="appc-parent-watch", daemon=True)
    t.start()
    return t
