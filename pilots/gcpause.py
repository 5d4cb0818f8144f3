"""Pause Python's cyclic garbage collector around a batch that builds many long-lived objects.

A readiness batch holds every check's result for 2,000 pilots until its snapshots are written: a million
and a half objects that all survive. The collector's heuristic sees them as new long-lived objects and
runs full collections over the whole heap again and again while the batch grows (about four per batch,
a third of a full recompute's time), finding nothing to free. A large API batch (a thousand cases) is the
same in small. Reference counting still frees everything that is not in a cycle; the collector runs again
as soon as the last pause ends.

Process-wide, as the collector is: a counter lets threads (a threaded server, the thread-pool worker of
`make run`) nest pauses, and the collector comes back when the last one ends, and only if it was on to
begin with. Pauses that overlap without end (a busy threaded server) still get a full collection at least
every MAX_PAUSE seconds, so cyclic garbage cannot pile up.
"""

import gc
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

MAX_PAUSE = 30.0  # seconds: the longest the collector stays off, however pauses overlap

_lock = threading.Lock()
_depth = 0
_was_enabled = False
_since = 0.0  # when the collector last ran or was paused


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled, _since
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            _since = time.monotonic()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                if _was_enabled:
                    gc.enable()
            elif _was_enabled and time.monotonic() - _since > MAX_PAUSE:
                gc.collect()  # others still hold a pause: collect now rather than never
                _since = time.monotonic()
