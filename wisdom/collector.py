"""CPython's cyclic garbage collector, set for a worker that holds thousands of open streams.

A stream's objects (its requests, its greenlet's frames, its sockets) live as long as the stream. With CPython's
default thresholds (700, 10, 10) the collector then scans every one of them each time the objects it tracks have
grown by a quarter: while new streams keep arriving, a pause of 100 to 300 ms every few seconds per worker, in
which the worker answers nothing (bench/NOTES.md, "The collector's pauses"). So once the application is loaded:
- what start-up made (Django, the apps, the settings) is frozen, never scanned again;
- the youngest generation holds 50,000 objects, so a request's own objects are gone before a collection sees
  them, and the collections that scan the long-lived objects (every 20th, and the full ones) come rarely.
Reference cycles (DRF's request and view point at each other) are still collected, a little later.
"""

import gc

THRESHOLDS = (50_000, 20, 10)


def collector_settle() -> None:
    """Freezes what exists now (after one full collection, so no garbage is kept) and sets the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
