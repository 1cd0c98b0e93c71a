"""Per-step wall time and peak resident memory, for the pipeline's log and the benchmark.

Peak RSS per step is sampled from ``/proc/self/statm`` by a background thread every
``interval_s`` seconds (the kernel's ``ru_maxrss`` is a process-lifetime maximum and cannot be
attributed to a step). Steps may be entered many times (once per block); times add up.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import Iterator

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_bytes() -> int:
    """Resident set size of this process now (Linux ``/proc/self/statm``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * _PAGE
    except OSError:  # pragma: no cover - non-Linux
        return 0


class StepProfiler:
    """Accumulates wall time and the peak RSS seen while inside each named step."""

    def __init__(self, interval_s: float = 0.02) -> None:
        self.seconds: dict[str, float] = {}
        self.peak_rss: dict[str, int] = {}
        self.calls: dict[str, int] = {}
        self._active: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._overall_peak = current_rss_bytes()
        self._thread = threading.Thread(target=self._sample, args=(interval_s,), daemon=True)
        self._thread.start()

    def _record(self, rss: int) -> None:
        with self._lock:
            self._overall_peak = max(self._overall_peak, rss)
            for name in self._active:
                self.peak_rss[name] = max(self.peak_rss.get(name, 0), rss)

    def _sample(self, interval_s: float) -> None:
        while not self._stop.wait(interval_s):
            self._record(current_rss_bytes())

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the enclosed code under ``name`` (nested steps are all charged)."""
        with self._lock:
            self._active.append(name)
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self._record(current_rss_bytes())
            dt = time.perf_counter() - t0
            with self._lock:
                self._active.remove(name)
                self.seconds[name] = self.seconds.get(name, 0.0) + dt
                self.calls[name] = self.calls.get(name, 0) + 1

    @property
    def overall_peak_rss(self) -> int:
        return self._overall_peak

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{step: {"seconds", "peak_rss_gb", "calls"}}``."""
        return {k: {"seconds": round(v, 3), "peak_rss_gb": round(self.peak_rss.get(k, 0) / 2**30, 3),
                    "calls": self.calls.get(k, 0)} for k, v in self.seconds.items()}


@contextlib.contextmanager
def maybe_step(profiler: StepProfiler | None, name: str) -> Iterator[None]:
    """``profiler.step(name)`` or nothing."""
    if profiler is None:
        yield
    else:
        with profiler.step(name):
            yield
