"""Keeping the garbage collector's pauses short in long-running processes.

CPython's cycle collector walks every tracked object of the oldest generation in one go; with
the objects a started service holds (modules, the app, ccxt's markets, pools) that is a pause
of 50-130 ms on this project's machine, measured in the ``POST /trades`` benchmark's slowest
requests. :func:`freeze_heap` collects once and then moves everything alive into the permanent
generation (:func:`gc.freeze`), which later collections skip: pauses then depend on what was
allocated since, not on the size of the program.
"""

from __future__ import annotations

import gc


def freeze_heap() -> None:
    """Collect now, then exempt every surviving object from future collections.

    Call it once, when start-up is done. Objects freed later are still freed by reference
    counting; only cycles among the frozen objects would never be collected, and the
    collection just before the freeze removes the ones that exist at that moment.
    """
    gc.collect()
    gc.freeze()
