"""What faust's commit waits for: its producer buffer's flush() with one slow send.

faust's consumer commits right after ``await app.producer.flush()``, whose buffer flush waits at
most 0.1 s for each send (``ProducerBuffer.flush_atmost``) and counts only what is still in the
buffer, not the write its sender task has taken out. Table writes go through that buffer, so a
record's offset could be committed before its state reached the changelog (the cause of a
kill -9 splitting one event into two stories; ARCHITECTURE.md, Streams, "Crashes and
replays"). This puts five writes in the buffer with a send that takes 0.15 s and prints what
the flush left behind. No Kafka needed.

    python bench/faust_flush.py
"""

from __future__ import annotations

import asyncio
import time
import types

from faust.transport.producer import ProducerBuffer


async def main() -> None:
    buffer = ProducerBuffer()
    buffer.app = types.SimpleNamespace(conf=types.SimpleNamespace(producer_threaded=False))
    sent: list[int] = []

    async def send(write: int) -> None:
        await asyncio.sleep(0.15)  # a busy event loop, or a broker slow to answer
        sent.append(write)

    buffer._send_pending = send
    await buffer.start()
    for write in range(5):
        buffer.put(write)
    started = time.monotonic()
    await buffer.flush()
    print(
        f"flush() returned after {time.monotonic() - started:.2f} s with {len(sent)} of 5 "
        f"writes sent ({buffer.size} still in the buffer)"
    )
    await asyncio.sleep(1.0)
    print(f"one second later: {len(sent)} of 5 sent")
    await buffer.stop()


if __name__ == "__main__":
    asyncio.run(main())
