"""Restarted runs: a later write supersedes every earlier point at the same or a later step (TensorBoard's
rule), and the streaming :func:`lrpulse.diagnose_file` must reach exactly the verdict of reading the
whole log (:func:`lrpulse.scan`, the CLI) whatever its chunk size, even when a restart reaches back
past points it has already streamed."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import lrpulse
from lrpulse._demo_tfevents import write_events


def superseded(steps: list[int], values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Reference: walk backwards keeping a point only if it is below every step kept after it."""
    kept: list[tuple[int, float]] = []
    lowest = None
    for s, v in zip(reversed(steps), reversed(values), strict=True):
        if lowest is None or s < lowest:
            kept.append((s, v))
            lowest = s
    kept.reverse()
    return np.array([s for s, _ in kept], dtype=np.int64), np.array([v for _, v in kept])


def scan_diagnosis(path):
    (result,) = list(lrpulse.scan(path))
    assert result.ok, result.error
    return result


def same(a, b) -> bool:
    return (a.label, a.confidence, a.advice, a.first_bad_step, a.findings) == (
        b.label, b.confidence, b.advice, b.first_bad_step, b.findings)  # fmt: skip


def test_a_restart_after_a_blow_up_is_healthy_when_streamed_as_when_read_whole(tmp_path):
    # The audit's case: the first file blows up from step 250, the job restarts from step 200 and
    # trains healthily to 399. TensorBoard shows the restart replacing 200..299; so must we.
    run = tmp_path / "run"
    run.mkdir()
    rng = np.random.default_rng(0)
    first = np.arange(300)
    loss1 = 3.0 * (1 + first) ** -0.3 * np.exp(0.02 * rng.standard_normal(300))
    loss1[250:] *= np.exp(np.arange(50) * 0.3)
    second = np.arange(200, 400)
    loss2 = 3.0 * (1 + second) ** -0.3 * np.exp(0.02 * rng.standard_normal(200))
    write_events(run / "events.out.tfevents.1700000000.host", {"loss": (first.tolist(), loss1.tolist())})
    write_events(run / "events.out.tfevents.1700000900.host", {"loss": (second.tolist(), loss2.tolist())})
    whole = scan_diagnosis(run)
    steps, values = superseded(first.tolist() + second.tolist(), np.float32(np.r_[loss1, loss2]).tolist())
    np.testing.assert_array_equal(whole.steps, steps)
    np.testing.assert_array_equal(whole.values, values)
    assert whole.diagnosis.label != "diverged"
    for chunk in (16, 100, 1 << 18):
        assert same(lrpulse.diagnose_file(run, chunk_points=chunk), whole.diagnosis), chunk


@st.composite
def restarted_runs(draw):
    """A job that restarts from earlier checkpoints, each restart writing a new event file: its files'
    steps, and for each point whether a restart came after it (those points blow up, as a run does
    before someone restarts it)."""
    files: list[list[int]] = []
    doomed: list[bool] = []
    start = 0
    pieces = draw(st.integers(1, 4))
    for k in range(pieces):
        length = draw(st.integers(1, 300))
        files.append(list(range(start, start + length)))
        doomed += [k < pieces - 1 and i > 0.7 * length for i in range(length)]
        start = draw(st.integers(max(0, start + length - 200), start + length + 5))
    return files, doomed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(run=restarted_runs(), seed=st.integers(0, 2**16))
def test_streaming_equals_reading_the_whole_log_for_any_restarts(tmp_path_factory, run, seed):
    # Each event file is streamed on its own, so a restart in a later file reaches back past points
    # the stream has already fed (the case that needs the second pass).
    files, doomed = run
    steps = [s for f in files for s in f]
    rng = np.random.default_rng(seed)
    loss = 3.0 * (1 + np.asarray(steps)) ** -0.3 * np.exp(0.05 * rng.standard_normal(len(steps)))
    loss = np.float32(loss * np.where(doomed, 20.0, 1.0)).astype(np.float64)  # event files hold float32
    lr = np.float32(1e-3 * (1 + np.asarray(steps) % 7)).astype(np.float64)
    folder = tmp_path_factory.mktemp("restart")
    at = 0
    for k, f in enumerate(files):
        part = slice(at, at + len(f))
        write_events(folder / f"events.out.tfevents.{1700000000 + k}.host",
                     {"loss": (f, loss[part].tolist()), "lr": (f, lr[part].tolist())})  # fmt: skip
        at += len(f)
    whole = scan_diagnosis(folder)
    want_steps, want_loss = superseded(steps, loss.tolist())
    np.testing.assert_array_equal(whole.steps, want_steps)
    np.testing.assert_array_equal(whole.values, want_loss)
    assert same(lrpulse.diagnose_file(folder), whole.diagnosis)
