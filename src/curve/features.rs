//! The numbers the verdict rests on, measured on the bucket series in log-loss against the measured
//! noise floor (so no threshold depends on the loss's scale): noise, start/end levels, early and late
//! slopes with standard errors, flatness, rises, explosions and spikes.

use super::series::Series;
use super::stats::{fit_line, median, running_median, Fit, Pt, Totals};

/// A spike: a point far above the local level that comes back down.
#[derive(Debug, Clone, Copy)]
pub struct Spike {
    pub step: u64,
    /// Height over the local level, as a factor of the loss.
    pub factor: f64,
    /// Height in noise standard deviations.
    pub z: f64,
    /// Steps until the bucket means are back at the local level (None: not within the run).
    pub recovery_steps: Option<u64>,
}

#[derive(Debug, Clone, Default)]
pub struct Features {
    pub pts: Vec<Pt>,
    pub totals: Totals,
    /// Spike-free local level (running median of bucket means) and its window half-width.
    pub level: Vec<f64>,
    pub window: usize,
    /// Point-level noise of log-loss (marginal standard deviation) and from first differences.
    pub sigma: f64,
    pub sigma_delta: f64,
    /// Noise of a bucket mean at the median bucket size.
    pub start: f64,
    pub end: f64,
    pub drop: f64,
    pub drop_se: f64,
    pub early: Fit,
    pub late: Fit,
    pub whole: Fit,
    pub decel: f64,
    /// Run fraction from which the level stays within a band of its final value, the fit over that
    /// flat part, and the share of the total drop achieved before it.
    pub flat_from: f64,
    pub flat: Fit,
    pub drop_before_flat: f64,
    /// Highest level in the first 60% over the start level, and how far it dipped before.
    pub rise: f64,
    pub rise_z: f64,
    pub rise_at: f64,
    pub dip_before_rise: f64,
    /// Largest level over its running minimum, where it starts, and the excess at the end.
    pub excess: f64,
    pub excess_index: Option<usize>,
    pub end_excess: f64,
    pub spikes: Vec<Spike>,
    /// LR at the end over its maximum (None without an LR series).
    pub lr_end_ratio: Option<f64>,
    pub lr_max: Option<f64>,
}

fn select(pts: &[Pt], ys: &[f64], lo: f64, hi: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut out = (Vec::new(), Vec::new(), Vec::new());
    for (p, &y) in pts.iter().zip(ys) {
        if p.u >= lo && p.u <= hi {
            out.0.push(p.u);
            out.1.push(y);
            out.2.push(p.n);
        }
    }
    out
}

fn fit_range(pts: &[Pt], ys: &[f64], lo: f64, hi: f64) -> Fit {
    let (x, y, w) = select(pts, ys, lo, hi);
    fit_line(&x, &y, &w)
}

pub fn measure(train: &Series) -> Features {
    let pts = train.points();
    let totals = train.totals();
    let mut f = Features { totals, ..Features::default() };
    let b = pts.len();
    if b < 4 {
        f.pts = pts;
        return f;
    }
    let ys: Vec<f64> = pts.iter().map(|p| p.y).collect();
    let w = (b / 40).clamp(2, 25);
    let level = running_median(&ys, w);
    // Marginal point noise: within-bucket residuals when buckets are large, else residuals of the
    // bucket means around the running median, scaled to one point.
    let sizes: Vec<f64> = pts.iter().map(|p| p.n).collect();
    let typical_n = median(&sizes);
    let within: Vec<f64> = pts.iter().filter_map(|p| p.var_within).collect();
    let resid: Vec<f64> = pts.iter().zip(&ys).zip(&level).map(|((p, y), l)| ((y - l) * p.n.sqrt()).abs()).collect();
    let sigma_series = 1.4826 * median(&resid) * 1.15;
    f.sigma = if typical_n >= 8.0 && within.len() * 2 >= b { median(&within).sqrt() } else { sigma_series };
    f.sigma = f.sigma.max(1e-7);
    f.sigma_delta = (f.totals.delta_var / 2.0).max(0.0).sqrt();
    // Spike-free values for the fits: buckets far from the local level are replaced by it.
    let clean: Vec<f64> = pts
        .iter()
        .zip(&ys)
        .zip(&level)
        .map(|((p, &y), &l)| if (y - l).abs() * p.n.sqrt() > 5.0 * f.sigma { l } else { y })
        .collect();
    let k0 = (b / 100).max(3).min(b / 2);
    let k1 = (b / 10).max(3).min(b / 2);
    f.start = median(&clean[..k0]);
    f.end = median(&clean[b - k1..]);
    f.drop = f.start - f.end;
    let head_n: f64 = sizes[..k0].iter().sum();
    let tail_n: f64 = sizes[b - k1..].iter().sum();
    f.early = fit_range(&pts, &clean, 0.0, 0.2);
    f.late = fit_range(&pts, &clean, 0.7, 1.0);
    f.whole = fit_range(&pts, &clean, 0.0, 1.0);
    // The drop's standard error: the noise of the two end means, inflated like the late fit's.
    let corr = if f.late.resid_sd > 0.0 && f.late.count > 3 { 1.0f64.max(f.late.se / naive_se(&f.late, &pts, 0.7)) } else { 1.0 };
    f.drop_se = f.sigma * (1.2533 * (1.0 / head_n + 1.0 / tail_n)).sqrt() * corr;
    f.decel = if f.late.slope < 0.0 && f.early.slope < 0.0 { f.early.slope / f.late.slope } else if f.early.slope < 0.0 { f64::INFINITY } else { 0.0 };
    flatness(&mut f, &pts, &clean, &level);
    rises(&mut f, &pts, &level, k0);
    f.spikes = spikes(&pts, &ys, &level, f.sigma);
    lr_shape(&mut f, &pts);
    f.level = level;
    f.window = w;
    f.pts = pts;
    f
}

/// The white-noise standard error of a fit over `u >= lo` (to measure how much autocorrelation inflated it).
fn naive_se(fit: &Fit, pts: &[Pt], lo: f64) -> f64 {
    let sel: Vec<&Pt> = pts.iter().filter(|p| p.u >= lo).collect();
    let sw: f64 = sel.iter().map(|p| p.n).sum();
    let mx = sel.iter().map(|p| p.u * p.n).sum::<f64>() / sw;
    let sxx: f64 = sel.iter().map(|p| p.n * (p.u - mx) * (p.u - mx)).sum();
    let k = sel.len() as f64;
    if sxx <= 0.0 {
        return fit.se.max(1e-300);
    }
    (fit.resid_sd * fit.resid_sd * k / sw / sxx).sqrt().max(1e-300)
}

fn flatness(f: &mut Features, pts: &[Pt], clean: &[f64], level: &[f64]) {
    let b = pts.len();
    let band = (0.08 * f.drop.abs()).max(3.0 * f.drop_se).max(1e-9);
    let mut from = b - 1;
    while from > 0 && (level[from - 1] - f.end).abs() <= band {
        from -= 1;
    }
    f.flat_from = pts[from].u;
    f.flat = fit_range(pts, clean, f.flat_from, 1.0);
    f.drop_before_flat = if f.drop.abs() > 0.0 { (f.start - level[from]) / f.drop } else { 0.0 };
}

fn rises(f: &mut Features, pts: &[Pt], level: &[f64], k0: usize) {
    let b = pts.len();
    let early_end = pts.iter().position(|p| p.u > 0.6).unwrap_or(b).max(1);
    let (mut peak_i, mut peak) = (0, f64::NEG_INFINITY);
    for (i, &l) in level[..early_end].iter().enumerate().skip(k0 / 2 + 1) {
        if l > peak {
            peak = l;
            peak_i = i;
        }
    }
    f.rise = peak - f.start;
    let head_n: f64 = pts[..k0].iter().map(|p| p.n).sum();
    f.rise_z = f.rise / (f.sigma * (1.2533 * (1.0 / head_n + 1.0 / pts[peak_i].n.max(1.0) / (2.0 * f.window as f64 + 1.0))).sqrt());
    f.rise_at = pts[peak_i].u;
    let low = level[..=peak_i].iter().cloned().fold(f64::INFINITY, f64::min);
    f.dip_before_rise = f.start - low;
    // Explosion: the level far above everything before it.
    let mut run_min = f64::INFINITY;
    let mut best = 0.0;
    for (i, &l) in level.iter().enumerate() {
        run_min = run_min.min(l);
        let e = l - run_min;
        if e > best {
            best = e;
        }
        if e >= 2.0f64.ln() * 3.0 && f.excess_index.is_none() {
            f.excess_index = Some(i);
        }
    }
    f.excess = best;
    f.end_excess = f.end - level.iter().cloned().fold(f64::INFINITY, f64::min);
}

fn spikes(pts: &[Pt], ys: &[f64], level: &[f64], sigma: f64) -> Vec<Spike> {
    let mut out: Vec<Spike> = Vec::new();
    let b = pts.len();
    let mut last_flagged: Option<usize> = None;
    for i in 0..b {
        let p = &pts[i];
        let extra = if p.n > 1.0 { (2.0 * p.n.ln()).sqrt() } else { 0.0 };
        let height = p.ymax.max(ys[i]) - level[i];
        let z = height / sigma - extra;
        if z < SPIKE_Z || height < 0.05 {
            continue;
        }
        // One spike per excursion: buckets right after a flagged one are its decaying tail.
        let tail_of_previous = last_flagged.is_some_and(|j| j + 1 == i);
        last_flagged = Some(i);
        if tail_of_previous {
            continue;
        }
        let back = (i + 1..b).find(|&j| (ys[j] - level[j]) * pts[j].n.sqrt() < 3.0 * sigma);
        let step = if p.dmax.is_finite() && p.dmax > 0.5 * height { p.t_dmax } else { p.t_first };
        out.push(Spike {
            step,
            factor: height.exp(),
            z,
            recovery_steps: back.map(|j| pts[j].t_first.saturating_sub(step)),
        });
    }
    out
}

/// Height over the local level, in noise standard deviations, that makes a spike.
pub const SPIKE_Z: f64 = 7.0;

fn lr_shape(f: &mut Features, pts: &[Pt]) {
    if pts.iter().any(|p| p.lr.is_none()) {
        return;
    }
    let max = pts.iter().filter_map(|p| p.lr.map(|l| l.2)).fold(0.0, f64::max);
    let tail: Vec<f64> = pts.iter().filter(|p| p.u >= 0.9).filter_map(|p| p.lr.map(|l| l.0)).collect();
    if max > 0.0 && !tail.is_empty() {
        f.lr_end_ratio = Some(median(&tail) / max);
        f.lr_max = Some(max);
    }
}
