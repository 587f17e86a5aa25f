"""Log-reading throughput: lrpulse against what a user would run today, side by side in one process.

- an event file of 10^6 scalars written by torch's SummaryWriter: tensorboard's EventAccumulator
  (every scalar kept: size_guidance 0) and tbparse;
- a 10^7-row CSV (step, epoch, train_loss, lr), and a sparse Lightning-style one (a row per log call,
  empty cells for what was not logged): pandas.read_csv and polars.read_csv;
- 10^6 JSON lines: pandas.read_json(lines=True);
- with ``--big-gb G``: peak memory (ru_maxrss of a child process) of ``lrpulse.diagnose_file`` and of a
  tag-filtered ``lrpulse.read_scalars`` on a G-GB CSV, against the file size.

A peer that is not installed is skipped and said so. Each timing is the best of ``--repeat`` runs (peers
slower than 10 s run once). Files are written once into ``--dir`` (default: a temp folder, removed at
the end) and reused when present.

    python benches/bench_logs.py                 # all peers, default sizes
    python benches/bench_logs.py --big-gb 10     # plus the 10 GB memory check
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import lrpulse


def best_time(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for i in range(repeat):
        t = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t)
        if i == 0 and best > 10:
            break
    return best, result


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def write_events(folder: Path, n: int) -> Path:
    """n scalars with torch's SummaryWriter: one tag, one add_scalar per step."""
    existing = sorted(folder.glob("events.out.tfevents.*"))
    if existing:
        return existing[0]
    from torch.utils.tensorboard import SummaryWriter

    folder.mkdir(parents=True, exist_ok=True)
    writer = SummaryWriter(str(folder), max_queue=10_000, flush_secs=3600)
    loss = 2.5 * (1 + np.arange(n)) ** -0.3
    for step, value in enumerate(loss.tolist()):
        writer.add_scalar("train/loss", value, step)
    writer.close()
    return sorted(folder.glob("events.out.tfevents.*"))[0]


def write_csv_blocks(path: Path, rows: int, header: str, block_lines: Callable[[list[int], list[float]], str]) -> Path:
    """Write ``header`` then ``block_lines(steps, loss)`` for blocks of 10^6 steps (kept if present)."""
    if path.exists():
        return path
    with open(path, "w") as f:
        f.write(header)
        for start in range(0, rows, 1_000_000):
            steps = np.arange(start, min(rows, start + 1_000_000))
            f.write(block_lines(steps.tolist(), (2.5 * (1 + steps) ** -0.3).tolist()))
    return path


def write_csv(path: Path, rows: int) -> Path:
    """A dense metrics.csv: step, epoch, train_loss, lr on every row."""

    def lines(steps: list[int], loss: list[float]) -> str:
        return "".join(
            f"{s},{s // 10000},{v!r},{0.1 * 0.5 ** (s // 1_000_000)!r}\n" for s, v in zip(steps, loss, strict=True)
        )

    return write_csv_blocks(path, rows, "step,epoch,train_loss,lr\n", lines)


def write_sparse_csv(path: Path, rows: int) -> Path:
    """Lightning CSVLogger's layout: columns sorted by name, one row per ``log`` call holding only what
    was logged then (train loss every step, the LR every 50, a validation loss every 1000)."""

    def lines(steps: list[int], loss: list[float]) -> str:
        out = []
        for s, v in zip(steps, loss, strict=True):
            if s % 50 == 0:
                out.append(f"{s // 10000},{1e-3 * 0.5 ** (s // 1_000_000)!r},{s},,\n")
            out.append(f"{s // 10000},,{s},{v!r},\n")
            if s % 1000 == 999:
                out.append(f"{s // 10000},,{s},,{1.1 * v!r}\n")
        return "".join(out)

    return write_csv_blocks(path, rows, "epoch,lr-AdamW,step,train_loss,val_loss\n", lines)


def write_jsonl(path: Path, rows: int) -> Path:
    if path.exists():
        return path
    loss = 2.5 * (1 + np.arange(rows)) ** -0.3
    with open(path, "w") as f:
        f.writelines(
            json.dumps({"step": i, "loss": v, "lr": 1e-3, "phase": "train"}) + "\n" for i, v in enumerate(loss.tolist())
        )
    return path


def row(name: str, seconds: float, points: int, size: int, ours: float | None) -> None:
    ratio = f"{seconds / ours:8.1f}x" if ours else "       --"
    rate = points / seconds / 1e6
    print(f"  {name:<38} {seconds * 1e3:10.1f} ms {rate:9.1f} M pts/s {size / seconds / 1e6:8.0f} MB/s  {ratio}")


def compare(title: str, path: Path, points: int, repeat: int, ours: Callable[[], Any], peers: list[Any]) -> None:
    """Time lrpulse, then each peer ``(label, module, run, check)`` that is installed, with ratios."""
    size = path.stat().st_size
    print(f"\n{title}, {size / 1e6:.1f} MB ({lrpulse._core.num_threads()} threads)")
    t_ours, log = best_time(ours, repeat)
    row("lrpulse.read_scalars", t_ours, points, size, None)
    for label, module, run, check in peers:
        if not have(module):
            print(f"  {label}: {module} not installed, skipped")
            continue
        t, result = best_time(run, repeat)
        assert check(result, log), f"{label} read something else"
        row(label, t, points, size, t_ours)


def accumulate(path: Path) -> list[Any]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"scalars": 0})  # keep every scalar
    acc.Reload()
    return acc.Scalars("train/loss")


def tbparse_scalars(path: Path) -> Any:
    from tbparse import SummaryReader

    return SummaryReader(str(path)).scalars


def bench_events(folder: Path, n: int, repeat: int) -> None:
    path = write_events(folder / "tb", n)
    peers = [
        ("tensorboard EventAccumulator", "tensorboard", lambda: accumulate(path),
         lambda events, log: np.array_equal([e.value for e in events], log["train/loss"][1])),
        ("tbparse SummaryReader(...).scalars", "tbparse", lambda: tbparse_scalars(path),
         lambda df, log: np.array_equal(df["value"].to_numpy(), log["train/loss"][1])),
    ]  # fmt: skip
    compare(f"TensorBoard event file: {n:,} scalars from torch SummaryWriter", path, n, repeat,
            lambda: lrpulse.read_scalars(path), peers)  # fmt: skip


def bench_csv(folder: Path, rows: int, repeat: int) -> None:
    path = write_csv(folder / "metrics.csv", rows)
    same = lambda df, log: np.array_equal(np.asarray(df["train_loss"]), log["train_loss"][1])  # noqa: E731
    peers = [
        ("polars.read_csv", "polars", lambda: __import__("polars").read_csv(path), same),
        ("pandas.read_csv", "pandas", lambda: __import__("pandas").read_csv(path), same),
    ]
    compare(f"CSV: {rows:,} rows x 4 columns", path, 3 * rows, repeat, lambda: lrpulse.read_scalars(path), peers)
    path = write_sparse_csv(folder / "lightning_metrics.csv", rows)
    points = 2 * rows + rows // 50 + rows // 1000  # epoch and train_loss every step, lr, val_loss
    sparse = lambda df, log: np.array_equal(np.asarray(df["train_loss"].drop_nulls()), log["train_loss"][1])  # noqa: E731
    peers = [
        ("polars.read_csv", "polars", lambda: __import__("polars").read_csv(path), sparse),
        ("pandas.read_csv", "pandas", lambda: __import__("pandas").read_csv(path),
         lambda df, log: np.array_equal(df["train_loss"].dropna().to_numpy(), log["train_loss"][1])),
    ]  # fmt: skip
    compare(f"Lightning-style sparse CSV: {rows:,} steps, 5 columns", path, points, repeat,
            lambda: lrpulse.read_scalars(path), peers)  # fmt: skip


def bench_jsonl(folder: Path, rows: int, repeat: int) -> None:
    path = write_jsonl(folder / "metrics.jsonl", rows)
    # pandas parses JSON floats with its fast, not round-trip, routine (precise_float=False): last-bit ties.
    same = lambda df, log: np.allclose(df["loss"].to_numpy(), log["loss"][1], rtol=1e-13, atol=0)  # noqa: E731
    peers = [("pandas.read_json(lines=True)", "pandas", lambda: __import__("pandas").read_json(path, lines=True), same)]
    compare(f"JSON lines: {rows:,} records", path, 2 * rows, repeat, lambda: lrpulse.read_scalars(path), peers)


def write_big_csv(path: Path, gigabytes: float) -> Path:
    """A CSV of about `gigabytes` GB: no step column (the row index is the step), a 64 MB block of rows
    written again and again so the file is quick to make."""
    target = int(gigabytes * 1e9)
    if path.exists() and path.stat().st_size >= target:
        return path
    n = 1_200_000
    rng = np.random.default_rng(0)
    cols = np.stack([2.5 * (1 + np.arange(n)) ** -0.3 * np.exp(0.05 * rng.standard_normal(n)),
                     np.full(n, 1e-3), rng.random(n), 1 + rng.random(n)], axis=1)  # fmt: skip
    block = "".join(f"{a!r},{b!r},{c!r},{d!r}\n" for a, b, c, d in cols.tolist()).encode()
    with open(path, "wb") as f:
        f.write(b"loss,lr,acc,grad_norm\n")
        written = 0
        while written < target:
            f.write(block)
            written += len(block)
    return path


# Peak RSS is the child's VmHWM: ru_maxrss would report the parent's size too (Linux keeps the
# high-water mark of the memory image a forked child had before exec).
CHILD = """
import sys, time, lrpulse
def peak_mb():
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) / 1024
path, what = sys.argv[1], sys.argv[2]
t = time.perf_counter()
if what == "diagnose_file":
    result = lrpulse.diagnose_file(path, "loss").label
elif what == "read_scalars":
    result = len(lrpulse.read_scalars(path, "loss")["loss"][0])
else:
    result = 0
print(time.perf_counter() - t, peak_mb(), result)
"""


def bench_memory(folder: Path, gigabytes: float) -> None:
    path = write_big_csv(folder / "big.csv", gigabytes)
    size = path.stat().st_size
    rows = size // (len(path.open("rb").readlines(1 << 16)[1]) or 1)
    print(f"\nPeak memory on a {size / 1e9:.1f} GB CSV (~{rows / 1e6:.0f} M rows, 4 columns), in a child process")
    for what in ("import", "diagnose_file", "read_scalars"):
        out = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  {what}: failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        seconds, peak, result = out.stdout.split()
        if what == "import":
            print(f"  {'python + import lrpulse':<38} {float(peak):10.0f} MB peak RSS")
            continue
        note = f"{int(result):,} points of one tag kept" if what == "read_scalars" else f"label {result}"
        print(f"  lrpulse.{what:<30} {float(peak):10.0f} MB peak RSS {float(seconds):8.1f} s "
              f"{size / float(seconds) / 1e9:6.2f} GB/s  ({note})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", type=Path, help="where the files are written (kept); default a temp folder")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--csv-rows", type=int, default=10_000_000)
    parser.add_argument("--jsonl", type=int, default=1_000_000)
    parser.add_argument("--big-gb", type=float, default=0.0, help="also measure peak memory on a file this large")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["events", "csv", "jsonl", "memory"], action="append")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="lrpulse-bench-logs-"))
    folder.mkdir(parents=True, exist_ok=True)
    only = set(args.only or ["events", "csv", "jsonl", "memory"])
    print(f"lrpulse {lrpulse.__version__}, {os.cpu_count()} CPUs, files in {folder}")
    try:
        if "events" in only:
            bench_events(folder, args.events, args.repeat)
        if "csv" in only:
            bench_csv(folder, args.csv_rows, args.repeat)
        if "jsonl" in only:
            bench_jsonl(folder, args.jsonl, args.repeat)
        if "memory" in only and args.big_gb > 0:
            bench_memory(folder, args.big_gb)
    finally:
        if args.dir is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n(peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")


if __name__ == "__main__":
    main()
