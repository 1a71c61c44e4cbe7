"""Autocast regions that cannot change what a capture computes stay out of torch.export.

torch.export records every ``torch.autocast`` region as a ``wrap_with_autocast`` call, even
one that is disabled or meant for another device (``device_type="cuda"`` while the model runs
on the CPU). Such a region changes nothing in the run trtgen captures and checks against, and
the network's precision is trtgen's ``--precision``, so it is entered as a no-op. A region
enabled for the capture's own device does change the result and is still recorded (and
refused as an unsupported op).
"""

import contextlib

import torch

_AUTOCAST = torch.amp.autocast_mode.autocast


@contextlib.contextmanager
def inert_autocast(device="cpu"):
    """While active, autocast regions that are disabled or for another device do nothing."""
    enter, leave = _AUTOCAST.__enter__, _AUTOCAST.__exit__

    def inert(region):
        return not region._enabled or region.device != device

    def __enter__(self):
        self._trtgen_inert = inert(self)
        return self if self._trtgen_inert else enter(self)

    def __exit__(self, *exc_info):
        return False if getattr(self, "_trtgen_inert", False) else leave(self, *exc_info)

    _AUTOCAST.__enter__, _AUTOCAST.__exit__ = __enter__, __exit__
    try:
        yield
    finally:
        _AUTOCAST.__enter__, _AUTOCAST.__exit__ = enter, leave
