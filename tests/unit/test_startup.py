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


def test_survivors_of_a_full_collection_are_frozen_from_then_on():
    from rasd.startup import _freeze_survivors, keep_full_collections_short

    keep_full_collections_short()
    keep_full_collections_short()  # once is enough, twice changes nothing
    try:
        assert gc.callbacks.count(_freeze_survivors) == 1
        survivor = _Loaded()
        gc.collect(1)  # a younger collection freezes nothing
        assert any(o is survivor for o in gc.get_objects())
        gc.collect()
        assert not any(o is survivor for o in gc.get_objects())
    finally:
        gc.callbacks.remove(_freeze_survivors)
        gc.unfreeze()
