"""The numpy boundary of ``Schedule.__call__`` and ``Schedule.trajectory``.

Every accepted dtype, strided views, 0-d arrays and numpy scalars, lists, ``out=``, empty input and bad
steps; no copies of the input; the GIL released during long evaluations; identical results from many
Python threads, from one or several Rust threads and from every SIMD level; and evaluation in a forked
child after the parent used the thread pool. Values are compared bit for bit with scalar calls: the
array path runs the same kernels as ``s(t)``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import schedules

import lrpulse
from lrpulse.errors import DTypeError, InputError

DTYPES = [np.int32, np.int64, np.uint32, np.uint64, np.float32, np.float64]
#: A schedule whose values differ at nearly every step, to catch misplaced elements.
WAVY = lrpulse.warmup(lrpulse.cosine_restarts(lr=0.1, period=977, period_mult=1.5, decay=0.9), warmup_steps=300)
BIG = 2_000_000


def scalar_values(s, steps) -> np.ndarray:
    return np.array([s(float(t)) for t in steps], dtype=np.float64)


def digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a, dtype=np.float64).tobytes()).hexdigest()


# --- dtypes, views, scalars, lists ------------------------------------------------------------------


@given(schedules, st.lists(st.integers(0, 2**24), min_size=1, max_size=300), st.sampled_from(DTYPES))
@settings(max_examples=60)
def test_every_dtype_equals_scalar_calls_bit_for_bit(s, steps, dtype):
    expected = scalar_values(s, steps)
    got = s(np.array(steps, dtype=dtype))
    assert got.dtype == np.float64 and got.shape == expected.shape
    np.testing.assert_array_equal(got.view(np.uint64), expected.view(np.uint64))


@pytest.mark.parametrize("dtype", DTYPES)
def test_strided_and_reversed_views_read_in_place(dtype):
    base = np.arange(0, 30_000, dtype=dtype)
    for view in (base[::3], base[::-1], base[5:-7:11], base[::-2]):
        assert not view.flags.c_contiguous or view.strides[0] < 0 or view.base is not None
        np.testing.assert_array_equal(WAVY(view), WAVY(np.ascontiguousarray(view)))
        np.testing.assert_array_equal(WAVY(view), scalar_values(WAVY, view))


def test_zero_d_arrays_and_numpy_scalars_give_python_floats():
    expected = WAVY(1234)
    for x in (np.array(1234), np.array(1234.0, dtype=np.float32), np.int32(1234), np.uint64(1234),
              np.float64(1234.0), np.float32(1234.0), 1234.0):
        got = WAVY(x)
        assert type(got) is float and got == expected, x


def test_lists_are_converted_with_a_copy_and_agree_with_arrays():
    steps = [0, 17, 300, 301, 5000, 123456]
    np.testing.assert_array_equal(WAVY(steps), WAVY(np.array(steps)))
    np.testing.assert_array_equal(WAVY([0.5, 2.25]), WAVY(np.array([0.5, 2.25])))
    assert "copies" in lrpulse.Schedule.__doc__  # documented


def test_empty_input_gives_an_empty_float64_array():
    for dtype in DTYPES:
        got = WAVY(np.array([], dtype=dtype))
        assert got.dtype == np.float64 and got.shape == (0,)
    assert WAVY([]).shape == (0,)
    assert WAVY.trajectory(0).shape == (0,)


# --- bad steps ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0, -1e-300])
@pytest.mark.parametrize("index", [0, 7, 40_001])
def test_bad_steps_raise_input_error_naming_the_first_bad_index(bad, index):
    steps = np.arange(50_000, dtype=np.float64)
    steps[index] = bad
    steps[-1] = np.nan  # a later bad step must not be the one reported
    with pytest.raises(InputError, match=rf"steps\[{index}\] must be finite and >= 0"):
        WAVY(steps)


def test_negative_integers_and_bad_scalars_raise_input_error():
    with pytest.raises(InputError, match=r"steps\[2\]"):
        WAVY(np.array([0, 1, -5], dtype=np.int64))
    with pytest.raises(InputError, match=r"steps\[1\]"):
        WAVY([0, -1])
    for bad in (-1, float("nan"), float("inf"), np.float64(-2.0)):
        with pytest.raises(InputError, match="step must be finite and >= 0"):
            WAVY(bad)


def test_two_dimensional_input_raises_input_error():
    with pytest.raises(InputError, match="1-D"):
        WAVY(np.zeros((3, 4)))
    with pytest.raises(InputError, match="1-D"):
        WAVY([[1, 2], [3, 4]])


def test_unsupported_dtypes_raise_dtype_error():
    for steps in (np.array([1, 2], dtype=np.int16), np.array(["a"]), np.array([1 + 1j])):
        with pytest.raises(DTypeError, match="dtype"):
            WAVY(steps)


# --- out= --------------------------------------------------------------------------------------------


def test_out_is_written_in_place_and_returned():
    steps = np.arange(10_000, dtype=np.int64)
    out = np.full(steps.size, -1.0)
    result = WAVY(steps, out=out)
    assert result is out
    np.testing.assert_array_equal(out, WAVY(steps))
    # A float64 view of a larger buffer is fine as long as it is contiguous.
    buf = np.zeros(steps.size + 10)
    assert WAVY(steps, out=buf[5:-5]) is not None
    np.testing.assert_array_equal(buf[5:-5], WAVY(steps))
    assert (buf[:5] == 0).all() and (buf[-5:] == 0).all()


def test_out_with_the_wrong_dtype_raises_dtype_error():
    steps = np.arange(10)
    for out in (np.zeros(10, dtype=np.float32), np.zeros(10, dtype=np.int64), [0.0] * 10):
        with pytest.raises(DTypeError, match="out must"):
            WAVY(steps, out=out)


def test_out_with_the_wrong_shape_or_flags_raises_input_error():
    steps = np.arange(10, dtype=np.float64)
    with pytest.raises(InputError, match="out must have length 10, got length 9"):
        WAVY(steps, out=np.zeros(9))
    read_only = np.zeros(10)
    read_only.flags.writeable = False
    with pytest.raises(InputError, match="writeable"):
        WAVY(steps, out=read_only)
    with pytest.raises(InputError, match="C-contiguous"):
        WAVY(steps, out=np.zeros(20)[::2])
    with pytest.raises(InputError, match="1-D"):
        WAVY(steps, out=np.zeros((2, 5)))


def test_out_overlapping_the_steps_raises_input_error():
    buf = np.arange(20, dtype=np.float64)
    for steps, out in ((buf, buf), (buf[:10], buf[5:15]), (buf.view(np.int64)[:10], buf[:10])):
        with pytest.raises(InputError, match="overlap"):
            WAVY(steps, out=out)
    np.testing.assert_array_equal(buf, np.arange(20, dtype=np.float64))  # untouched
    # Disjoint parts of one buffer: allowed.
    WAVY(buf[:10], out=buf[10:])
    np.testing.assert_array_equal(buf[10:], WAVY(np.arange(10)))


# --- no copies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.int32, np.float64])
@pytest.mark.parametrize("strided", [False, True])
def test_large_inputs_are_not_copied(dtype, strided):
    data = np.arange(3 * BIG if strided else BIG, dtype=dtype)
    steps = data[::3] if strided else data
    out_bytes = steps.size * 8
    WAVY(steps[:100])  # warm up lazy imports and the thread pool outside the traced window
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        values = WAVY(steps)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Only the result is allocated (numpy's allocator, which tracemalloc sees); a copy of the input
    # (4 or 8 bytes per step, or a float64 conversion) would add at least half as much again.
    assert peak - before < out_bytes + steps.size * 2, (peak - before, out_bytes)
    assert values.dtype == np.float64 and values.flags.c_contiguous and values.flags.writeable
    assert values.flags.owndata and not np.shares_memory(values, data)


def test_trajectory_returns_a_fresh_owned_array():
    a, b = WAVY.trajectory(1000), WAVY.trajectory(1000)
    assert a.flags.owndata and a.flags.writeable and not np.shares_memory(a, b)
    np.testing.assert_array_equal(a, WAVY(np.arange(1000)))
    np.testing.assert_array_equal(WAVY.trajectory(500, start=250), a[250:750])


# --- threads -----------------------------------------------------------------------------------------


def test_the_gil_is_released_during_a_long_evaluation():
    steps = np.random.default_rng(0).integers(0, 10**7, size=8 * BIG)
    heavy = lrpulse.tanh(lr=0.1, total_steps=10**7)
    stamps: list[float] = []
    stop = threading.Event()

    def tick():
        while not stop.is_set():
            stamps.append(time.perf_counter())

    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)
    worker = threading.Thread(target=tick)
    worker.start()
    try:
        seen = False
        for _ in range(5):  # a busy CI machine can starve the ticker once; the GIL cannot
            start = time.perf_counter()
            heavy(steps)
            end = time.perf_counter()
            margin = (end - start) / 10
            if any(start + margin < t < end - margin for t in list(stamps)):
                seen = True
                break
    finally:
        stop.set()
        worker.join()
        sys.setswitchinterval(previous)
    assert seen, "no other Python thread ran while a long evaluation was under way"


def test_many_python_threads_get_identical_results():
    steps = np.random.default_rng(1).integers(0, 10**6, size=300_000)
    expected = WAVY(steps)
    results: list[np.ndarray | BaseException] = [None] * 8  # type: ignore[list-item]

    def work(i):
        try:
            results[i] = WAVY(steps[::-1])[::-1] if i % 2 else WAVY(steps)
        except BaseException as e:  # reported below
            results[i] = e

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        assert isinstance(r, np.ndarray)
        np.testing.assert_array_equal(r.view(np.uint64), expected.view(np.uint64))


CHILD = """
import hashlib, numpy as np, lrpulse
s = lrpulse.warmup(lrpulse.cosine_restarts(lr=0.1, period=977, period_mult=1.5, decay=0.9), warmup_steps=300)
steps = np.random.default_rng(2).integers(0, 10**7, size=1_000_003)
parts = [s(steps), s.trajectory(1_000_003, start=12345), lrpulse.one_cycle(max_lr=0.1, total_steps=10**6)(steps)]
print(lrpulse._core.num_threads(), *(hashlib.sha256(p.tobytes()).hexdigest() for p in parts))
"""


def run_child(**env) -> list[str]:
    out = subprocess.run([sys.executable, "-c", CHILD], env={**os.environ, **env}, capture_output=True,
                         text=True, check=True, timeout=300)
    return out.stdout.split()


def test_results_do_not_depend_on_the_thread_count_or_the_simd_level():
    default = run_child()
    one_thread = run_child(LRPULSE_NUM_THREADS="1")
    assert one_thread[0] == "1"
    assert one_thread[1:] == default[1:]
    for level in ("off", "generic", "avx2"):
        assert run_child(LRPULSE_SIMD=level)[1:] == default[1:], level


# --- fork --------------------------------------------------------------------------------------------


def _checksum_in_child(_):
    return digest(WAVY(np.arange(3 * BIG)[::-1]))


@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")  # jax, if another test loaded it
def test_a_forked_child_evaluates_after_the_parent_used_the_pool():
    expected = digest(WAVY(np.arange(3 * BIG)[::-1]))  # the parent's pool threads exist now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: its copy of the pool has no threads; evaluation must still finish
        try:
            os.write(write, _checksum_in_child(None).encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 120
    while True:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if not done:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    got = os.read(read, 200).decode()
    os.close(read)
    assert done, "the forked child hung"
    assert got == expected


@pytest.mark.filterwarnings("ignore:os.fork\\(\\) was called:RuntimeWarning")  # jax, if another test loaded it
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")
def test_multiprocessing_fork_workers_evaluate():
    expected = digest(WAVY(np.arange(3 * BIG)[::-1]))
    with multiprocessing.get_context("fork").Pool(2) as pool:
        results = pool.map_async(_checksum_in_child, range(2)).get(timeout=120)
    assert results == [expected, expected]
