"""Pause Python's cyclic garbage collector around a batch that builds millions of long-lived objects.

A readiness batch holds every check's result for 2,000 pilots until its snapshots are written: a million
and a half objects that all survive. The collector's heuristic sees them as new long-lived objects and
runs full collections over the whole heap again and again while the batch grows (about four per batch,
a third of a full recompute's time), finding nothing to free. Reference counting still frees everything
that is not in a cycle; the collector runs again as soon as the last batch ends.

Process-wide, as the collector is: a counter lets threads (the thread-pool worker of `make run`) nest
pauses, and the collector comes back only when the last one ends, and only if it was on to begin with.
"""

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused() -> Iterator[None]:
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
