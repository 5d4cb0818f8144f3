"""Timing, memory sampling and the report lines."""

import resource
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

PAGE = 4096


def median_time(run: Callable[[], object], repetitions: int, *, before: Callable[[], object] | None = None):
    """Median wall time of `run` over `repetitions` (with `before` run untimed each time) and the results."""
    times, results = [], []
    for _ in range(repetitions):
        if before:
            before()
        started = time.perf_counter()
        results.append(run())
        times.append(time.perf_counter() - started)
    return statistics.median(times), results


def rss_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * PAGE


class PeakMemory:
    """Samples the resident set size while a block runs: `growth` is its peak above the start, in bytes."""

    def __init__(self, every: float = 0.01):
        self.every = every
        self.available = Path("/proc/self/statm").exists()

    def __enter__(self):
        self.start = self.peak = rss_bytes() if self.available else 0
        self.maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        if self.available:
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, rss_bytes())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()
            self.peak = max(self.peak, rss_bytes())
        else:  # no /proc: the peak resident size of the process is the best we have
            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    @property
    def growth(self) -> int:
        return self.peak - self.start


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1024 / 1024:,.0f} MB"


def verdict(ok: bool) -> str:
    return "ok" if ok else "BELOW TARGET"


def say(line: str = "") -> None:
    print(line, flush=True)


def row(label: str, value: str, note: str = "") -> None:
    """One figure of the report: a label, its value, and what it is measured against."""
    say(f"   {label:<30} {value:>24}   {note}".rstrip())
