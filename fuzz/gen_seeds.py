#!/usr/bin/env python3
"""Write the seed corpora under fuzz/seeds/<target>/ (tiny valid logs of each format).

Each seed starts with the harness's control bytes (see src/lib.rs): byte 0 the small chunk size
(1 + byte), and for `auto` byte 1 the file name; for `text_regex` the regex line comes first.
Event records are framed by the demo's writer; their protobuf payloads are hand-encoded here.
"""
import importlib.util
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))

# --- TFRecord framing: the demo's event-file writer (checked against TensorBoard's reader in the
# tests), loaded from the source tree by path so no built lrpulse is needed ------------------------
_spec = importlib.util.spec_from_file_location(
    "_demo_tfevents", os.path.join(HERE, "..", "python", "lrpulse", "_demo_tfevents.py"))
_tfevents = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tfevents)
record = _tfevents._record


# --- protobuf -----------------------------------------------------------------------------------
def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def bytes_field(field: int, b: bytes) -> bytes:
    return key(field, 2) + varint(len(b)) + b


def tensor(dtype: int, dims, body: bytes) -> bytes:
    shape = b"".join(bytes_field(2, key(1, 0) + varint(d)) for d in dims)
    return key(1, 0) + varint(dtype) + bytes_field(2, shape) + body


def value(tag: str, kind: str, x: float) -> bytes:
    v = bytes_field(1, tag.encode())
    if kind == "simple":
        v += key(2, 5) + struct.pack("<f", x)
    elif kind == "float_content":
        v += bytes_field(8, tensor(1, [], bytes_field(4, struct.pack("<f", x))))
    elif kind == "float_val":
        v += bytes_field(8, tensor(1, [], bytes_field(5, struct.pack("<f", x))))
    elif kind == "double":
        v += bytes_field(8, tensor(2, [], bytes_field(6, struct.pack("<d", x))))
    elif kind == "half":  # DT_HALF in half_val (1.0 = 0x3c00)
        v += bytes_field(8, tensor(19, [1], bytes_field(13, varint(0x3C00))))
    elif kind == "vector":
        v += bytes_field(8, tensor(1, [3], bytes_field(4, struct.pack("<3f", 1, 2, 3))))
    elif kind == "image":
        v += bytes_field(4, b"\x08\x02\x10\x02")
    return v


def event(step: int, wall: float, values) -> bytes:
    e = key(1, 1) + struct.pack("<d", wall) + key(2, 0) + varint(step)
    if values:
        e += bytes_field(5, b"".join(bytes_field(1, value(*v)) for v in values))
    return e


def version_event() -> bytes:
    return key(1, 1) + struct.pack("<d", 1.0) + bytes_field(3, b"brain.Event:2")


def event_file(n: int, kinds=("simple", "float_content")) -> bytes:
    out = record(version_event())
    for step in range(n):
        vals = [("loss", kinds[0], 2.0 / (step + 1)), ("lr", kinds[1], 0.1)]
        out += record(event(step, 1000.0 + step, vals))
    return out


# --- text formats -------------------------------------------------------------------------------
CSV = [
    b"epoch,step,train_loss,val_loss\n0,0,2.5,\n0,1,,2.25\n1,2,2.0,\n1,3,\"1.5\",1.75\n",
    b"step,note,loss\n1,\"warm, up\nand \"\"more\"\"\",2.5\r\n2,\"\",2.25\n3,plain,2\n",
    b"\xef\xbb\xbfepoch;loss;acc\n0;0.9;NA\n1;nan;0.5\n",
    b"loss,lr\n1e-3,0.1\n-inf,1E2\n",
]
TSV = [b"step\tloss\tphase\n1\t0.5\ttrain\n2\t0.25\tval\n", b"global_step\tloss\n10.0\t1\n\n20\t\n"]
JSONL = [
    b'{"step": 1, "loss": 2.5, "opt": {"lr": 0.1}}\n{"step": 2, "loss": NaN}\n',
    b'{"epoch": 0, "val/loss": -Infinity, "s": "x", "a": [1, {"b": 2}], "t": true, "n": null}\r\n\n{"k\\u00e9y": 1e5}\n',
]
TRAINER = [
    b'{"log_history": [{"loss": 1.5, "step": 1}, {"eval_loss": 2, "step": 2}]}',
    b'{"best_metric": null, "epoch": 1.0, "log_history": [\n  {"epoch": 0.5, "grad_norm": 3.2, "learning_rate": 5e-05, "loss": 2.1, "step": 10},\n  {"epoch": 1.0, "train_runtime": 12.5, "step": 20}\n], "max_steps": 20}\n',
]
TEXT = [
    b"step 1 loss 2.5 lr 0.1\n[2] loss: 2.25\nstep=3 loss=nan\n",
    b"Step: 100 | loss: 2.31 | lr: 1e-3\niter 200/5000 loss 2.1\nit 300 | loss=1.9\n| num_updates 400 | loss 1.8\nglobal_step=500, val_loss=-inf\n",
]
REGEX = [
    (rb"step (?P<step>\d+) (?P<tag>\w+)=(?P<value>\S+)", b"step 1 loss=2.5\nstep 2 loss=2.25 acc=0.5\nnoise\nstep x loss=1\n"),
    (rb"loss: (?P<value>[0-9.eE+-]+|nan)", b"epoch 0 loss: 1.5\nloss: nan\n"),
    (rb"(?P<tag>[a-z]+)=(?P<value>[^ ]+)(?: @(?P<step>\d+))?", b"a=1 @3 b=2\nc=x\n"),
]

AUTO_NAMES = ["input", "run.log", "stdout.txt", "metrics.csv", "log.tsv", "run.jsonl", "trainer_state.json",
              "events.out.tfevents.1700000000.host", "data.json"]


def write(target: str, name: str, data: bytes) -> None:
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main() -> None:
    ev = [
        event_file(3),
        event_file(2, ("float_val", "double")),
        event_file(1, ("half", "vector")) + record(event(7, 2.0, [("img", "image", 0)])),
        event_file(3)[:-5],  # truncated in the last record
    ]
    for i, data in enumerate(ev):
        write("events", f"seed{i}", bytes([7 + i * 20]) + data)
    for target, files in [("csv", CSV), ("tsv", TSV), ("jsonl", JSONL), ("trainer_state", TRAINER), ("text", TEXT)]:
        for i, data in enumerate(files):
            write(target, f"seed{i}", bytes([3 + i * 30]) + data)
    autos = [("input", ev[0]), ("events.out.tfevents.1700000000.host", ev[1]), ("metrics.csv", CSV[0]),
             ("input", CSV[0]), ("input", TSV[0]), ("run.jsonl", JSONL[0]), ("input", JSONL[0]),
             ("trainer_state.json", TRAINER[1]), ("data.json", TRAINER[1]), ("run.log", TEXT[0]),
             ("stdout.txt", JSONL[0]), ("input", TEXT[1])]
    for i, (name, data) in enumerate(autos):
        write("auto", f"seed{i}", bytes([5 + i * 17, AUTO_NAMES.index(name)]) + data)
    # parallel: byte 0 the format (events, csv, tsv, jsonl, text), byte 1 where the header ends (the
    # rest is repeated past 1 MiB).
    par = [(0, 0, ev[0]), (0, len(record(version_event())), ev[1]), (0, 0, ev[3]),
           (1, CSV[0].index(b"\n") + 1, CSV[0]), (1, CSV[1].index(b"\n") + 1, CSV[1]), (1, 0, CSV[3]),
           (2, TSV[0].index(b"\n") + 1, TSV[0]), (3, 0, JSONL[0]), (3, 0, JSONL[1]), (4, 0, TEXT[0]), (4, 0, TEXT[1])]
    for i, (f, k, data) in enumerate(par):
        write("parallel", f"seed{i}", bytes([f, k]) + data)
    for i, (pattern, data) in enumerate(REGEX):
        write("text_regex", f"seed{i}", bytes([4 + i * 40]) + pattern + b"\n" + data)


if __name__ == "__main__":
    main()
