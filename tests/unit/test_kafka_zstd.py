"""rasd.kafka_zstd inflates every zstd payload as aiokafka's own zstd_decode does, errors
included, and aiokafka's record batches use it once it is installed."""

from __future__ import annotations

import threading

import pytest
import zstandard
from aiokafka.codec import zstd_decode
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords

from rasd import kafka_zstd
from rasd.kafka_zstd import inflate, use_zstandard

JSON = ('{"id":"a1","title":"قصف مدفعي يستهدف بلدة","summary":"x"}' * 40).encode()


def payloads() -> list[bytes]:
    sized = zstandard.ZstdCompressor(level=3)
    unsized = zstandard.ZstdCompressor(level=3, write_content_size=False)
    streamed = zstandard.ZstdCompressor().compressobj()
    return [
        sized.compress(JSON),
        sized.compress(b""),
        unsized.compress(JSON),  # a producer that does not write the size
        streamed.compress(JSON) + streamed.flush(),
        sized.compress(JSON) + sized.compress(b"second frame"),  # cramjam reads both
    ]


@pytest.mark.parametrize("payload", payloads(), ids=["sized", "empty", "unsized", "stream", "two"])
def test_same_bytes_as_aiokafka(payload):
    assert inflate(payload) == zstd_decode(payload)
    assert inflate(memoryview(payload)) == zstd_decode(payload)


@pytest.mark.parametrize("payload", [b"", b"garbage", payloads()[0][:-3]], ids=repr)
def test_same_errors_as_aiokafka(payload):
    with pytest.raises(Exception) as expected:
        zstd_decode(payload)
    with pytest.raises(type(expected.value)):
        inflate(payload)


def test_a_decompressor_per_thread():
    seen = []

    def work():
        assert inflate(payloads()[0]) == JSON
        seen.append(kafka_zstd._local.decompressor)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(d) for d in seen}) == 2


def test_aiokafka_batches_are_read_with_it(monkeypatch):
    built = DefaultRecordBatchBuilder(
        magic=2, compression_type=4, is_transactional=0,  # 4: zstd
        producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=1 << 20,
    )  # fmt: skip
    for offset in range(3):
        built.append(offset, timestamp=None, key=None, value=JSON + b"%d" % offset, headers=[])
    data = bytes(built.build())
    calls = []
    monkeypatch.setattr(kafka_zstd, "inflate", lambda payload: calls.append(1) or inflate(payload))
    for name in kafka_zstd._RECORD_MODULES:
        monkeypatch.setattr(f"{name}.zstd_decode", zstd_decode)
    use_zstandard()
    records = MemoryRecords(data)
    values = [record.value for record in records.next_batch()]
    assert values == [JSON + b"%d" % offset for offset in range(3)]
    assert calls == [1]
