"""What a process does once it has loaded what it keeps: rules, gazetteer, models, modules.

The garbage collector's full collections walk every tracked object, and at start those are
mostly what was just loaded and lives as long as the process (the compiled rules and
gazetteer, imported modules, camel-tools' tables): about 90,000 objects, walked again at every
full collection of a first pass over unseen text, where they cost a fifth of the time (see
ARCHITECTURE.md, cold analysis). ``gc.freeze()`` moves them out of the collector's sight.
"""

from __future__ import annotations

import gc


def freeze_loaded() -> int:
    """Collect what start-up left over, then freeze what remains; returns the frozen count.

    Frozen objects are still freed by reference counting when nothing uses them any more (a
    replaced Matcher); only reference cycles among them are never collected, so call this once
    a process has loaded what it keeps, not on every reload.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
