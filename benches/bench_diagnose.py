"""Speed of lrpulse.diagnose against the analysis a user would write in numpy/pandas, side by side.

    python benches/bench_diagnose.py             # 10^8 float64 points (800 MB; needs ~8 GB free RAM)
    python benches/bench_diagnose.py --n 1e7     # smaller

On one loss array (a noisy decaying curve with spikes) it times, in the same process:
- ``np.sum`` over the buffer: the machine's memory-read bandwidth, the yardstick for "how close to
  reading the data once" a full pass gets;
- ``lrpulse.diagnose(loss)``: the whole verdict (one pass, parallel over chunks, GIL released);
- ``CurveMonitor.update`` over chunks of 10^4, then ``diagnose()``: the streaming cost;
- the numpy/pandas peer: log-loss, debiased EMA (``ewm(adjust=True)``), rolling OLS slope and rolling
  std over a window, sign-change rate of first differences, robust spike count (|residual from the
  EMA| over 6 MADs). It computes less than lrpulse (no classification), so the ratio is conservative.

Prints each time (best of --repeat) and the ratios the issue asks for: diagnose vs peer (>= 20x),
diagnose's share of the np.sum bandwidth (>= 30%), streaming / one-shot (<= 1.5x).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import lrpulse


def best(fn, repeat):
    times = []
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def make_loss(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    u = np.linspace(0.0, 1.0, n)
    log_loss = -0.4 * np.log1p(1000.0 * u)
    log_loss += 0.05 * rng.standard_normal(n)
    spikes = rng.choice(n, size=20, replace=False)
    log_loss[spikes] += 2.0
    np.exp(log_loss, out=log_loss)
    return log_loss * 2.5


def peer(loss: np.ndarray, window: int = 1000) -> dict:
    """What a user writes with numpy/pandas to look at a loss curve."""
    import pandas as pd

    y = pd.Series(np.log(loss))
    ema = y.ewm(alpha=0.01, adjust=True).mean()  # debiased, as TensorBoard smooths
    t = pd.Series(np.arange(len(y), dtype=np.float64))
    # Rolling OLS slope of log-loss on step: cov(t, y) / var(t) over the window.
    mean_t, mean_y = t.rolling(window).mean(), y.rolling(window).mean()
    mean_ty = (t * y).rolling(window).mean()
    var_t = (t * t).rolling(window).mean() - mean_t * mean_t
    slope = (mean_ty - mean_t * mean_y) / var_t
    noise = y.rolling(window).std()
    d = np.diff(y.to_numpy())
    sign_change_rate = float(np.mean(np.sign(d[1:]) * np.sign(d[:-1]) < 0))
    resid = (y - ema).to_numpy()
    mad = np.median(np.abs(resid - np.median(resid)))
    spikes = int(np.count_nonzero(resid > 6 * 1.4826 * mad))
    return {
        "final_slope": float(slope.iloc[-1]),
        "noise": float(noise.iloc[-1]),
        "sign_change_rate": sign_change_rate,
        "spikes": spikes,
    }


def stream(loss: np.ndarray, chunk: int) -> lrpulse.Diagnosis:
    m = lrpulse.CurveMonitor()
    for lo in range(0, len(loss), chunk):
        m.update(loss[lo : lo + chunk])
    return m.diagnose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=float, default=1e8)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--chunk", type=int, default=10_000)
    ap.add_argument("--skip-peer", action="store_true")
    args = ap.parse_args()
    n = int(args.n)
    loss = make_loss(n)
    print(f"{n:.3g} float64 points ({loss.nbytes / 2**20:.0f} MiB), lrpulse threads: {lrpulse._core.num_threads()}")

    t_sum, _ = best(lambda: float(np.sum(loss)), args.repeat)
    t_diag, d = best(lambda: lrpulse.diagnose(loss), args.repeat)
    t_stream, ds = best(lambda: stream(loss, args.chunk), args.repeat)
    assert ds == d, "streaming must give the identical diagnosis"
    bandwidth = loss.nbytes / t_sum
    print(f"np.sum                      {t_sum:8.3f} s   ({bandwidth / 1e9:.1f} GB/s read bandwidth)")
    print(f"lrpulse.diagnose            {t_diag:8.3f} s   ({loss.nbytes / t_diag / 1e9:.1f} GB/s) -> {d.label}")
    print(f"CurveMonitor, chunks {args.chunk:<6} {t_stream:8.3f} s")
    print(f"  share of np.sum bandwidth: {t_sum / t_diag:.0%} (target >= 30%)")
    print(f"  streaming / one-shot:      {t_stream / t_diag:.2f}x (target <= 1.5x)")
    if not args.skip_peer:
        t_peer, stats = best(lambda: peer(loss), 1)
        print(f"numpy/pandas analysis       {t_peer:8.3f} s   {stats}")
        print(f"  diagnose speed-up:         {t_peer / t_diag:.1f}x (target >= 20x)")
        print(f"  evidence: sign_change_rate {d.evidence['sign_change_rate']:.4f}, "
              f"spikes {d.evidence['spike_count']:.0f}, noise {d.evidence['noise_sigma']:.4f}")


if __name__ == "__main__":
    main()
