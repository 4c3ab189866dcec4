"""aiokafka's zstd record batches inflated by python-zstandard, a decompressor kept per thread.

aiokafka inflates a zstd batch with cramjam (``aiokafka.codec.zstd_decode``), which makes a
decompression context for each batch and grows its output as it goes. The backtest inflates the
batch of every retained article; python-zstandard's decompressor, made once per thread, gives
the same bytes in one output of the size the frame's header says (the backtest's reader alone:
18.6 against 15.9 µs an article, ARCHITECTURE.md, Backtests). A frame without its size (a
producer that streams), a batch of more than one frame and a corrupt one go to cramjam, as
before, with its errors.

aiokafka has no hook for a codec: its record modules look the module-level name ``zstd_decode``
up at each batch, so :func:`use_zstandard` replaces that name in them.

>>> use_zstandard()
>>> import zstandard
>>> inflate(zstandard.ZstdCompressor().compress(b"article"))
b'article'
"""

from __future__ import annotations

import importlib
import threading

import zstandard
from aiokafka.codec import zstd_decode as cramjam_decode

# The C record batches and the pure-Python ones (AIOKAFKA_NO_EXTENSIONS).
_RECORD_MODULES = ("aiokafka.record._crecords.default_records", "aiokafka.record.default_records")
_local = threading.local()


def inflate(payload: bytes) -> bytes:
    """``aiokafka.codec.zstd_decode(payload)``."""
    decompressor = getattr(_local, "decompressor", None)
    if decompressor is None:
        # Not shared: a decompressor may be used by one thread at a time.
        decompressor = _local.decompressor = zstandard.ZstdDecompressor()
    try:
        # Data after the first frame is refused, not dropped: cramjam reads every frame.
        return decompressor.decompress(payload, allow_extra_data=False)
    except zstandard.ZstdError:
        return cramjam_decode(payload)


def use_zstandard() -> None:
    """From now on, aiokafka's readers in this process inflate zstd batches with :func:`inflate`.

    Where aiokafka's record modules no longer have the name, nothing changes."""
    for name in _RECORD_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if getattr(module, "zstd_decode", None) is not None:
            module.zstd_decode = inflate
