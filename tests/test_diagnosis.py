"""lrpulse.diagnose and lrpulse.CurveMonitor: verdicts on clear synthetic curves, bad input, exact
invariance to chunking and merging, state round trips, threads, zero-copy input and bounded memory."""

from __future__ import annotations

import io
import pickle
import resource
import threading
from itertools import pairwise

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrpulse
from lrpulse import CurveMonitor, Diagnosis, InputError, Segment, diagnose

N = 2000


def curve(trend, sigma=0.03, n=N, seed=0, scale=3.7):
    u = np.linspace(0.0, 1.0, n)
    rng = np.random.default_rng(seed)
    return scale * np.exp(trend(u) + sigma * rng.standard_normal(n))


HEALTHY = curve(lambda u: -0.5 * np.log1p(300 * u))
PLATEAU = curve(lambda u: np.log(0.1 + np.exp(-u / 0.05)))
SLOW = curve(lambda u: -0.3 * u)
RISING = curve(lambda u: 1.2 * (1 - np.exp(-u / 0.05)), sigma=0.1)
NOISY = curve(lambda u: 0 * u, sigma=0.4)


@pytest.mark.parametrize(
    "loss, label",
    [(HEALTHY, "healthy"), (PLATEAU, "plateau"), (SLOW, "slow"), (RISING, "rising_early"), (NOISY, "oscillating")],
    ids=["healthy", "plateau", "slow", "rising_early", "oscillating"],
)
def test_clear_shapes_get_their_label(loss, label):
    d = diagnose(loss)
    assert isinstance(d, Diagnosis)
    assert d.label == label, d.evidence
    assert 0.5 <= d.confidence <= 1.0
    assert d.advice and isinstance(d.advice, str)


def test_labels_do_not_depend_on_the_loss_scale():
    for scale in (1e-4, 1.0, 1e4):
        assert diagnose(PLATEAU / 3.7 * scale).label == "plateau"


def test_advice_names_factors_and_steps():
    assert "10x" in diagnose(PLATEAU).advice and "checkpoint" in diagnose(PLATEAU).advice
    assert "from scratch" in diagnose(SLOW).advice and "Raise" in diagnose(SLOW).advice
    assert "warmup" in diagnose(RISING).advice


def test_nan_is_divergence_at_its_step():
    loss = HEALTHY.copy()
    loss[1234:] = np.nan
    steps = np.arange(N) * 10
    d = diagnose(loss, steps=steps)
    assert d.label == "diverged" and d.first_bad_step == 12340
    assert d.segments[-1] == Segment(12340, steps[-1], "diverged", pytest.approx(0.99))
    assert any(f["kind"] == "divergence" and f["step"] == 12340 for f in d.findings)


def test_explosion_after_a_sound_start_is_divergence():
    loss = curve(lambda u: np.where(u < 0.6, -u, 5.0))
    d = diagnose(loss)
    assert d.label == "diverged"
    assert abs(d.first_bad_step - int(0.6 * (N - 1))) <= 2


def test_spikes_are_reported_with_step_size_and_recovery():
    loss = HEALTHY.copy()
    loss[700] *= 30
    loss[1500] *= 6
    d = diagnose(loss)
    assert d.label == "spiky"
    spikes = [f for f in d.findings if f["kind"] == "spike"]
    assert [f["step"] for f in spikes] == [700, 1500]
    assert spikes[0]["size"] == pytest.approx(30, rel=0.2)
    assert spikes[0]["recovery_steps"] is not None and spikes[0]["recovery_steps"] <= 3
    assert d.evidence["spike_count"] == 2


def test_few_points_are_insufficient():
    assert diagnose(HEALTHY[:12]).label == "insufficient_data"
    assert diagnose(np.array([], dtype=np.float64)).label == "insufficient_data"


def test_a_decayed_lr_explains_a_flat_end():
    # The same early-drop-then-flat curve: a plateau under a constant LR, healthy under a decayed one.
    steps = np.arange(N)
    assert diagnose(PLATEAU, lr=np.full(N, 0.1)).label == "plateau"
    sched = lrpulse.cosine(lr=0.1, decay_steps=N, min_lr=1e-5)
    as_schedule = diagnose(PLATEAU, steps=steps, lr=sched)
    as_array = diagnose(PLATEAU, steps=steps, lr=sched(steps))
    assert as_schedule.label == "healthy"
    assert as_schedule.evidence == as_array.evidence
    assert as_schedule.evidence["lr_end_over_max"] < 0.15


def test_validation_rise_is_an_overfitting_finding():
    val_steps = np.arange(0, N, 100)
    u = val_steps / N
    val = 2.0 * np.exp(np.where(u < 0.4, -u, -0.4 + 1.2 * (u - 0.4)))
    d = diagnose(HEALTHY, val_loss=val, val_steps=val_steps)
    found = [f for f in d.findings if f["kind"] == "overfitting"]
    assert len(found) == 1 and 700 <= found[0]["step"] <= 900  # the minimum is at step 800
    tracking = diagnose(HEALTHY, val_loss=HEALTHY * 1.1)
    assert not [f for f in tracking.findings if f["kind"] == "overfitting"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss=np.ones(5), steps=np.arange(4)), r"steps must have length 5, got length 4"),
        (dict(loss=np.ones(5), steps=[0, 1, 1, 2, 3]), r"steps\[2\] must be greater than the step before it"),
        (dict(loss=np.ones(5), steps=[0, 1.5, 2, 3, 4]), r"steps\[1\] must be a whole number"),
        (dict(loss=np.ones(5), steps=[-1, 0, 1, 2, 3]), r"steps\[0\]"),
        (dict(loss=np.array([1.0, 0.0, 2.0])), r"loss\[1\] must be > 0"),
        (dict(loss=np.array([1.0, -3.0])), r"loss\[1\] must be > 0"),
        (dict(loss=np.ones((3, 3))), r"1-D"),
        (dict(loss=np.ones(5), lr=np.ones(4)), r"lr must have length 5"),
        (dict(loss=np.ones(5), lr=[1, 1, -1, 1, 1]), r"lr\[2\] must be finite and >= 0"),
        (dict(loss=np.ones(5), val_loss=np.ones(3)), r"val_loss must have the length of loss"),
        (dict(loss=np.ones(5), val_steps=np.arange(3)), r"val_steps given without val_loss"),
    ],
)
def test_bad_input_raises_input_error_naming_it(kwargs, match):
    with pytest.raises(InputError, match=match):
        diagnose(**kwargs)


def test_wrong_types_raise_dtype_errors():
    with pytest.raises(lrpulse.DTypeError):
        diagnose(["a", "b"])


def test_a_rewound_stream_is_refused_and_leaves_the_monitor_unchanged():
    m = CurveMonitor()
    m.update(HEALTHY[:100], steps=np.arange(100))
    before = m.state_dict()
    with pytest.raises(InputError, match=r"after the last step already seen \(99\)"):
        m.update(HEALTHY[100:200], steps=np.arange(50, 150))
    with pytest.raises(InputError, match=r"loss\[3\] must be > 0"):
        m.update(np.array([1.0, 1.0, 1.0, -1.0]))
    assert m.state_dict() == before


def _cuts(draw_points, n):
    return sorted(set(int(c) for c in draw_points if 0 < c < n))


@settings(max_examples=25)
@given(st.lists(st.integers(1, N - 1), max_size=12), st.sampled_from([np.float32, np.float64]))
def test_chunking_never_changes_anything(cut_points, dtype):
    loss = HEALTHY.astype(dtype).copy()
    loss[[300, 301, 1700]] = [np.nan, np.inf, np.nan]
    steps = np.cumsum(np.arange(N) % 7 + 1) + 2**40
    whole = diagnose(loss, steps=steps)
    m = CurveMonitor()
    bounds = [0, *_cuts(cut_points, N), N]
    for lo, hi in pairwise(bounds):
        m.update(loss[lo:hi], steps=steps[lo:hi])
    assert m.diagnose().to_dict() == whole.to_dict()


@settings(max_examples=20)
@given(st.lists(st.integers(1, N - 1), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_merge_grouping_never_changes_anything(cut_points, rnd):
    bounds = [0, *_cuts(cut_points, N), N]
    parts = []
    for lo, hi in pairwise(bounds):
        m = CurveMonitor()
        m.update(SLOW[lo:hi], steps=np.arange(lo, hi))
        parts.append(m)
    # Merge adjacent pairs in a random order until one monitor is left.
    while len(parts) > 1:
        i = rnd.randrange(len(parts) - 1)
        parts[i].merge(parts[i + 1])
        del parts[i + 1]
    assert parts[0].diagnose() == diagnose(SLOW)


def test_state_dict_and_pickle_round_trip():
    m = CurveMonitor()
    m.update(PLATEAU[:1500], lr=np.full(1500, 0.1), val_loss=PLATEAU[:1500] * 1.2)
    state = m.state_dict()
    assert state["version"] == 2 and set(state) == {"version", "train", "val"}
    back = CurveMonitor.from_state_dict(state)
    assert back.diagnose() == m.diagnose()
    pickled = pickle.loads(pickle.dumps(m))
    assert pickled.diagnose() == m.diagnose()
    # Continuing after the round trip equals continuing the original.
    for mon in (m, back, pickled):
        mon.update(PLATEAU[1500:], lr=np.full(N - 1500, 0.1), val_loss=PLATEAU[1500:] * 1.2)
    assert back.diagnose() == m.diagnose() == pickled.diagnose()


def test_state_dict_survives_torch_load_weights_only():
    torch = pytest.importorskip("torch")
    m = CurveMonitor()
    m.update(HEALTHY)
    buf = io.BytesIO()
    torch.save(m.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    assert CurveMonitor.from_state_dict(state).diagnose() == m.diagnose()


def test_damaged_state_is_an_input_error():
    m = CurveMonitor()
    m.update(HEALTHY[:500])
    state = m.state_dict()
    broken = {**state, "train": {**state["train"], "count": state["train"]["count"] + 1}}
    with pytest.raises(InputError, match="count"):
        CurveMonitor.from_state_dict(broken)
    with pytest.raises(InputError, match="version"):
        CurveMonitor.from_state_dict({**state, "version": 99})
    with pytest.raises(InputError, match="missing"):
        CurveMonitor.from_state_dict({"version": 2})


def test_threads_give_identical_results():
    loss = curve(lambda u: -0.5 * np.log1p(300 * u), n=400_000, seed=3)
    expected = diagnose(loss)
    results = []

    def work():
        results.append(diagnose(loss))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and all(r == expected for r in results)
    # The large one-shot call (split across threads) equals a single-threaded chunked pass.
    m = CurveMonitor()
    for chunk in np.array_split(loss, 37):
        m.update(chunk)
    assert m.diagnose() == expected


def test_input_is_read_in_place_float32_strided_and_read_only():
    big = np.ascontiguousarray(np.repeat(SLOW, 4))
    view = big[::4]
    assert diagnose(view).to_dict() == diagnose(SLOW).to_dict()
    ro = SLOW.copy()
    ro.flags.writeable = False
    assert diagnose(ro).label == "slow"
    f32 = SLOW.astype(np.float32)
    assert diagnose(f32).label == "slow"


def test_large_input_is_not_copied():
    loss = np.full(20_000_000, 2.0)
    loss *= np.exp(-np.linspace(0, 1, loss.size))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    diagnose(loss)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kib < 40_000, f"peak memory grew by {grown_kib} KiB (a copy would be 156 MiB)"


def test_memory_stays_flat_on_a_long_stream():
    m = CurveMonitor()
    chunk = NOISY[:1000]
    sizes = []
    for _ in range(2000):
        m.update(chunk)
        sizes.append(m.nbytes)
    assert m.count == 2_000_000
    # Bounded by the bucket caps from the first chunk on, whatever the stream's length.
    assert max(sizes) <= CurveMonitor.max_nbytes() < 1_000_000


def test_to_dict_is_plain_data():
    import json

    d = diagnose(PLATEAU)
    text = json.dumps(d.to_dict())
    assert json.loads(text)["label"] == "plateau"
    assert all(isinstance(s, Segment) for s in d.segments)


def _power_law_run(k, seed, n=10000, p=0.3, sigma=0.05):
    """A healthy run whose loss falls as (1 + k t)^-p: large k means a fast initial drop."""
    rng = np.random.default_rng(seed)
    return 3.0 * (1.0 + np.arange(n) * k) ** -p * np.exp(rng.normal(0.0, sigma, n))


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("k", [0.01, 1.0, 10.0])
def test_a_fast_initial_drop_is_no_spike(k, seed):
    # The first buckets of a falling run are above what follows but have nothing before them: no spike.
    d = diagnose(_power_law_run(k, seed))
    assert d.label == "healthy"
    assert not [f for f in d.findings if f["kind"] == "spike"]


def test_a_spike_on_a_fast_initial_drop_is_still_found():
    loss = _power_law_run(1.0, 0)
    loss[6000:6010] *= 4.0
    d = diagnose(loss)
    assert d.label == "spiky"
    assert [f["step"] for f in d.findings if f["kind"] == "spike"] == [6000]


def _rise_in_first_steps(schedule, seed, sigma, n=5000, rise_steps=20):
    """Too large an LR without warmup: 9.2 -> ~19 within `rise_steps` steps, then thrashing high."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = np.where(t < rise_steps, 9.2 * (19.0 / 9.2) ** (t / rise_steps), 19.0)
    if schedule == "cosine":
        lr = 0.5 * (1.0 + np.cos(np.pi * t / n))
        level = np.where(t < rise_steps, level, 19.0 - 4.0 * (1.0 - lr))
    else:
        lr = np.ones(n)
    thrash = 0.1 * np.sin(t / 37.0) * rng.uniform(0.5, 1.0)
    return level * np.exp(thrash + rng.normal(0.0, sigma, n)), lr


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sigma", [0.1, 0.2])
@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_rise_within_the_first_percent_is_rising_early(schedule, sigma, seed):
    loss, lr = _rise_in_first_steps(schedule, seed, sigma)
    assert diagnose(loss, lr=lr).label == "rising_early"
    assert diagnose(loss).label == "rising_early"


def _labels(d):
    return [(s.start_step, s.end_step, s.label) for s in d.segments]


def test_a_steep_curved_drop_is_a_healthy_segment_not_a_plateau():
    d = diagnose(_power_law_run(1.0, 0))
    assert d.label == "healthy"
    assert d.segments[0].label == "healthy", _labels(d)
    assert "plateau" not in [s.label for s in d.segments], _labels(d)


@pytest.mark.parametrize("seed", range(3))
def test_plateau_segments_are_the_drop_then_the_flat_part(seed):
    # exp(-u / 0.05) has fallen to 1% of its start by u = 0.23: from there on the level is flat.
    d = diagnose(curve(lambda u: np.log(0.1 + np.exp(-u / 0.05)), seed=seed))
    assert d.label == "plateau"
    assert [s.label for s in d.segments] == ["healthy", "plateau"], _labels(d)
    assert 0.1 * N <= d.segments[1].start_step <= 0.3 * N, _labels(d)


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_a_run_that_never_gets_back_below_its_start_is_one_rising_early_segment(schedule):
    # 9.2 -> 19 in 20 steps, then thrashing at 19 (or drifting down to 15 as a cosine decays): the
    # whole run stays above where it started, so none of it may be coloured healthy.
    loss, lr = _rise_in_first_steps(schedule, 0, 0.1)
    d = diagnose(loss, lr=lr)
    assert d.label == "rising_early"
    assert [s.label for s in d.segments] == ["rising_early"], _labels(d)
    assert d.segments[0].end_step == len(loss) - 1, _labels(d)


@pytest.mark.parametrize("seed", range(3))
def test_the_rising_early_segment_ends_where_the_loss_is_back_below_its_start(seed):
    # Too large an LR without warmup: the loss climbs 9.2 -> 19, thrashes there, and only once a step
    # decay at 60% of the run cuts the LR does it fall, to 3: red until it is back under 9.2, then green.
    loss, lr = _rise_in_first_steps("constant", seed, 0.1)
    n = len(loss)
    t = np.arange(n)
    cut = int(0.6 * n)
    loss[cut:] *= np.exp(np.log(3.0 / 19.0) * (1.0 - np.exp(-(t[cut:] - cut) / 200.0)))
    lr[cut:] = 0.1
    d = diagnose(loss, lr=lr)
    assert d.label == "rising_early"
    assert [s.label for s in d.segments] == ["rising_early", "healthy"], _labels(d)
    # exp(-(t - cut) / 200) puts the loss back at 9.2 about 100 steps after the cut; buckets blur it.
    back = cut + 100
    assert abs(d.segments[1].start_step - back) <= 0.03 * n, _labels(d)
