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
    /// Last step of any point (finite or not).
    pub last_step: u64,
    pub pts: Vec<Pt>,
    pub totals: Totals,
    /// Spike-free local level (running median of bucket means) and its window half-width.
    pub level: Vec<f64>,
    pub window: usize,
    /// Point-level noise of log-loss (marginal standard deviation) and from first differences.
    pub sigma: f64,
    pub sigma_delta: f64,
    /// Noise of bucket means scaled to one point, inflated for correlation: what trend tests use.
    pub sigma_eff: f64,
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
    /// The level a rise starts from and the typical early level it reaches (for the rising segment).
    pub rise_start: f64,
    pub rise_level: f64,
    /// Largest level over its running minimum, where it starts, and the excess at the end.
    pub excess: f64,
    pub excess_index: Option<usize>,
    /// How far the level had fallen below the start before the explosion began (a sound start).
    pub descent_before_excess: f64,
    /// Share of the total drop that comes after 30% of the run (small for a plateau).
    pub late_share: f64,
    /// Standard error of the start level.
    pub start_se: f64,
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
    let mut f = Features { totals, last_step: train.last_step.unwrap_or(0), ..Features::default() };
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
    // The drop's standard error: the noise of bucket means around the local level (which includes
    // correlated noise up to the bucket scale), inflated for the lag-1 correlation left between buckets.
    let r: Vec<f64> = pts.iter().zip(&clean).zip(&level).map(|((p, y), l)| (y - l) * p.n.sqrt()).collect();
    let (mut c0, mut c1) = (0.0, 0.0);
    for i in 0..b {
        c0 += r[i] * r[i];
        if i > 0 {
            c1 += r[i] * r[i - 1];
        }
    }
    let rho = if c0 > 0.0 { (c1 / c0).clamp(0.0, 0.9) } else { 0.0 };
    f.sigma_eff = sigma_series.max(1e-7) * ((1.0 + rho) / (1.0 - rho)).sqrt();
    f.drop_se = f.sigma_eff * (1.2533 * (1.0 / head_n + 1.0 / tail_n)).sqrt();
    f.decel = if f.late.slope < 0.0 && f.early.slope < 0.0 { f.early.slope / f.late.slope } else if f.early.slope < 0.0 { f64::INFINITY } else { 0.0 };
    flatness(&mut f, &pts, &clean, &level);
    let head: Vec<f64> = train.head.iter().map(|p| super::quant::to_log(p.yq as f64)).collect();
    rises(&mut f, &pts, &level, k0, &head);
    f.spikes = spikes(&pts, &ys, &level, f.sigma);
    lr_shape(&mut f, &pts);
    f.level = level;
    f.window = w;
    f.pts = pts;
    f
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

fn rises(f: &mut Features, pts: &[Pt], level: &[f64], k0: usize, head: &[f64]) {
    let b = pts.len();
    let early_end = pts.iter().position(|p| p.u > 0.6).unwrap_or(b).max(1);
    let (mut peak_i, mut peak) = (0, f64::NEG_INFINITY);
    for (i, &l) in level[..early_end].iter().enumerate().skip(k0 / 2 + 1) {
        if l > peak {
            peak = l;
            peak_i = i;
        }
    }
    // Significance from the typical early level (u in [0.05, 0.5], robust to a lone spike) against
    // the uncertainty of the start level.
    let head_n: f64 = pts[..k0].iter().map(|p| p.n).sum();
    f.start_se = f.sigma * (1.2533 / head_n).sqrt();
    let window: Vec<f64> = pts.iter().zip(level).filter(|(p, _)| p.u >= 0.05 && p.u <= 0.5).map(|(_, &l)| l).collect();
    let early_level = if window.is_empty() { peak } else { median(&window) };
    // The start of a rise: the first buckets, or the very first raw points when the loss had already
    // climbed within those buckets (a rise in the first ~1% of the run) and that is the stronger case.
    let mut start = f.start;
    f.rise_z = (early_level - f.start) / f.start_se.max(1e-300);
    // The first 2, 4 and 8 raw points: fewer for a rise within the first few steps, more for noise.
    for m in [2, 4, 8].into_iter().filter(|&m| m <= head.len()) {
        let first = head[..m].iter().sum::<f64>() / m as f64;
        let first_se = f.sigma * (1.2533 / m as f64).sqrt();
        let first_z = (early_level - first) / first_se.max(1e-300);
        if first_z > f.rise_z {
            (start, f.rise_z, f.start_se) = (first, first_z, first_se);
        }
    }
    f.rise = peak - start;
    (f.rise_start, f.rise_level) = (start, early_level);
    f.rise_at = pts[peak_i.min(b - 1)].u;
    let low = level[..=peak_i.min(b - 1)].iter().cloned().fold(f64::INFINITY, f64::min);
    f.dip_before_rise = start - low;
    // Explosion: the level far above everything before it.
    let mut run_min = f64::INFINITY;
    let mut best = 0.0;
    for (i, &l) in level.iter().enumerate() {
        run_min = run_min.min(l);
        let e = l - run_min;
        if e > best {
            best = e;
        }
        if e >= 8f64.ln() && f.excess_index.is_none() {
            f.excess_index = Some(i);
            f.descent_before_excess = f.start - run_min;
        }
    }
    f.excess = best;
    f.end_excess = f.end - level.iter().cloned().fold(f64::INFINITY, f64::min);
    let at30 = pts.iter().position(|p| p.u >= 0.3).unwrap_or(b - 1);
    f.late_share = if f.drop > 0.0 { (level[at30] - f.end) / f.drop } else { 1.0 };
}

fn spikes(pts: &[Pt], ys: &[f64], level: &[f64], sigma: f64) -> Vec<Spike> {
    let mut out: Vec<Spike> = Vec::new();
    let b = pts.len();
    let mut last_flagged: Option<usize> = None;
    for i in 0..b {
        let p = &pts[i];
        let extra = if p.n > 1.0 { (2.0 * p.n.ln()).sqrt() } else { 0.0 };
        // A spike stands above the local level on both sides: above the level here and after it, and
        // risen from what came before (the previous level, or for the first bucket, which has no
        // before, the largest rise inside it). The head of a falling run is above what follows only.
        let peak = p.ymax.max(ys[i]);
        let after = level.get(i + 1).map_or(f64::NEG_INFINITY, |&l| l);
        let from_before = if i > 0 { peak - level[i - 1] } else if p.dmax.is_finite() { p.dmax } else { 0.0 };
        let height = (peak - level[i]).min(peak - after).min(from_before);
        let z = height / sigma - extra;
        if z < SPIKE_Z || height < SPIKE_MIN_HEIGHT {
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

/// Height over the local level, in noise standard deviations, that makes a spike...
pub const SPIKE_Z: f64 = 7.0;
/// ...and at least this much in log-loss (x1.42): a blip of a few percent is not a loss spike.
pub const SPIKE_MIN_HEIGHT: f64 = 0.35;

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
