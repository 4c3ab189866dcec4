"""freeze_loaded: what a process loaded leaves the collector's sight, and is still freed."""

from __future__ import annotations

import gc
import weakref

from rasd.startup import freeze_loaded


class _Loaded:
    pass


def test_loaded_objects_are_frozen_and_still_freed_by_reference_counting():
    loaded = _Loaded()
    gone = weakref.ref(loaded)
    try:
        assert freeze_loaded() == gc.get_freeze_count() > 0
        assert not any(o is loaded for o in gc.get_objects())  # out of every generation
        del loaded
        assert gone() is None
    finally:
        gc.unfreeze()
