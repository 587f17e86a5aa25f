"""A minimal TensorBoard event-file writer, so the demo can write real event files with numpy alone.

An event file is a sequence of TFRecords (``length``, masked CRC32C of the length, the payload, masked
CRC32C of the payload); each payload is an ``Event`` protobuf. Only what scalar logs need is encoded:
``Event{wall_time=1, step=2, file_version=3, summary=5}``, ``Summary{value=1}``, and
``Summary.Value{tag=1, simple_value=2}`` (what torch's ``SummaryWriter`` writes) or
``Summary.Value{tag=1, tensor=8, metadata=9}`` with a rank-0 float tensor (what TF2/Keras'
``tf.summary.scalar`` writes). Field numbers are those of TensorFlow's ``event.proto``,
``summary.proto`` and ``tensor.proto``.

>>> import pathlib, tempfile, lrpulse
>>> path = pathlib.Path(tempfile.mkdtemp()) / "events.out.tfevents.0.demo"
>>> write_events(path, {"loss": ([0, 10], [2.5, 2.25])})
>>> lrpulse.read_scalars(path)["loss"][1].tolist()
[2.5, 2.25]
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterable, Mapping

__all__ = ["crc32c", "write_events"]


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):  # reflected Castagnoli polynomial
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord uses. ``crc32c(b"123456789") == 0xE3069283``."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(crc: int) -> int:
    # TFRecord stores a rotated, offset CRC so that a CRC of data holding CRCs stays well-distributed.
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _record(payload: bytes) -> bytes:
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", _masked(crc32c(length))) + payload + struct.pack("<I", _masked(crc32c(payload)))


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values are sent as their two's complement
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _bytes_field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


_FLOAT32_MAX = 3.4028234663852886e38


def _float32(value: float) -> bytes:
    if abs(value) > _FLOAT32_MAX and value == value:  # overflows float32: inf, as a float32 loss would be
        value = float("inf") if value > 0 else float("-inf")
    return struct.pack("<f", value)


def _scalar_value(tag: str, value: float, tensor: bool) -> bytes:
    name = _bytes_field(1, tag.encode())
    if not tensor:
        return name + _varint(2 << 3 | 5) + _float32(value)  # simple_value: float, fixed32
    # TensorProto{dtype=DT_FLOAT (1), tensor_shape={} (rank 0), tensor_content=<4 bytes>}
    proto = _varint(1 << 3 | 0) + _varint(1) + _bytes_field(2, b"") + _bytes_field(4, _float32(value))
    metadata = _bytes_field(1, _bytes_field(1, b"scalars"))  # SummaryMetadata{plugin_data{plugin_name}}
    return name + _bytes_field(8, proto) + _bytes_field(9, metadata)


def _event(wall_time: float, step: int, body: bytes) -> bytes:
    return _varint(1 << 3 | 1) + struct.pack("<d", wall_time) + _varint(2 << 3 | 0) + _varint(step) + body


def write_events(
    path: str | os.PathLike[str],
    series: Mapping[str, tuple[Iterable[int], Iterable[float]]],
    *,
    tensor: bool = False,
    start_time: float = 1.7e9,
    seconds_per_step: float = 0.25,
) -> None:
    """Write ``{tag: (steps, values)}`` as a TensorBoard event file at ``path``.

    Events are written step by step (all tags of a step together), as a training loop writes them;
    values are stored as float32, as TensorBoard does. ``tensor=True`` stores them as TF2 tensor
    summaries instead of ``simple_value``. Wall times start at ``start_time`` and advance
    ``seconds_per_step`` per step, so the file is byte-for-byte reproducible.
    """
    by_step: dict[int, list[bytes]] = {}
    for tag, (steps, values) in series.items():
        for step, value in zip(steps, values, strict=True):
            by_step.setdefault(int(step), []).append(_scalar_value(tag, float(value), tensor))
    with open(path, "wb") as f:
        f.write(_record(_event(start_time, 0, _bytes_field(3, b"brain.Event:2"))))
        for step in sorted(by_step):
            summary = b"".join(_bytes_field(1, v) for v in by_step[step])
            f.write(_record(_event(start_time + step * seconds_per_step, step, _bytes_field(5, summary))))
