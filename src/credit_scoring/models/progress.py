"""Progress of long loops (CV folds, candidates, tuning trials) in the console, with an ETA.

A line is logged at most every ``every_s`` seconds, so a loop over 1,000 rows that ends in
a second prints nothing, and one over 300,000 rows tells the user where it is and when it
will end.
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)


def duration(seconds: float) -> str:
    """12 s, 3 min 05 s, 1 h 02 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """Counts ``done`` steps out of ``total`` and logs ``what: done/total, elapsed, ETA``.

    The ETA assumes the remaining steps take as long as the finished ones on average.
    """

    def __init__(self, what: str, total: int, every_s: float = 10.0) -> None:
        self.what, self.total, self.every_s = what, total, every_s
        self.done = 0
        self.started = self.last_logged = time.monotonic()

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def eta(self) -> float:
        return self.elapsed / self.done * (self.total - self.done) if self.done else float("nan")

    def step(self, detail: str = "") -> None:
        self.done += 1
        now = time.monotonic()
        if now - self.last_logged < self.every_s:
            return
        self.last_logged = now
        remaining = "" if self.done >= self.total else f", about {duration(self.eta())} left"
        logger.info("%s: %d/%d done in %s%s%s", self.what, self.done, self.total,
                    duration(self.elapsed), remaining, f" ({detail})" if detail else "")
