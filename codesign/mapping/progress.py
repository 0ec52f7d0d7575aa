"""A progress bar for long mappings: tqdm on stderr, shown only when the run has taken
longer than a second (short runs print nothing), cleared when done."""
from __future__ import annotations

import sys

#: Seconds before the bar appears.
DELAY_S = 1.0


class Progress:
    """Steps of a mapping (traffic, greedy start, descents, routing) with the current
    stage as the bar's postfix. ``enabled=False`` makes every call a no-op."""

    def __init__(self, enabled: bool, desc: str, total: int):
        self.bar = None
        if enabled:
            from tqdm import tqdm
            # miniters=0 (not None) keeps update(0) able to redraw: a long stage still
            # shows its bar once the delay has passed
            self.bar = tqdm(total=total, desc=desc, unit="step", file=sys.stderr,
                            delay=DELAY_S, leave=False, miniters=0, dynamic_ncols=True)

    def stage(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(0)       # redraws only past the delay and the min interval

    def advance(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def add_total(self, n: int) -> None:
        if self.bar is not None:
            self.bar.total += n

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


#: A Progress that does nothing (the default of the library functions).
QUIET = Progress(False, "", 0)
