//! From exact bucket sums to floating statistics: centred moments computed exactly in integers and
//! rounded once, the per-bucket view the classifier reads, robust scales and least-squares slopes.

use super::bucket::Bucket;
use super::quant::Q;
use super::series::Series;

/// `sxy - sx * sy / n`, exact until the final rounding (the centred co-moment of two exact sums).
pub fn centred(sxy: i128, sx: i128, sy: i128, n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let n = n as i128;
    let (q, r) = (sx.div_euclid(n), sx.rem_euclid(n));
    let ry = r.wrapping_mul(sy);
    let (q2, r2) = (ry.div_euclid(n), ry.rem_euclid(n));
    let whole = sxy.wrapping_sub(q.wrapping_mul(sy)).wrapping_sub(q2);
    whole as f64 - r2 as f64 / n as f64
}

/// One occupied bucket as the classifier sees it (log-loss in natural-log units).
#[derive(Debug, Clone, Copy)]
pub struct Pt {
    /// Mean step and run fraction in [0, 1].
    pub t: f64,
    pub u: f64,
    pub n: f64,
    /// Mean, extremes of log-loss; largest rise between consecutive points and where it lands.
    pub y: f64,
    pub ymax: f64,
    pub ymin: f64,
    pub dmax: f64,
    pub t_dmax: u64,
    pub t_first: u64,
    pub t_last: u64,
    /// Residual variance of log-loss around the bucket's own straight line (n >= 3).
    pub var_within: Option<f64>,
    /// Geometric mean LR and its extremes when every point had one.
    pub lr: Option<(f64, f64, f64)>,
}

/// Point-level exact totals over a whole series.
#[derive(Debug, Clone, Copy, Default)]
pub struct Totals {
    pub n: u64,
    pub nbad: u64,
    pub first_bad: Option<u64>,
    /// Mean log-loss, its variance, the OLS slope of log-loss per step and its standard error
    /// (white-noise formula), all from exact sums.
    pub mean: f64,
    pub var: f64,
    pub slope: f64,
    pub slope_se: f64,
    /// Variance of first differences, sign-change rate of consecutive differences.
    pub delta_var: f64,
    pub sign_change_rate: f64,
    pub pairs: u64,
    /// Points carrying an LR.
    pub nlr: u64,
}

impl Series {
    /// Occupied buckets with at least one finite point, as classifier points.
    pub fn points(&self) -> Vec<Pt> {
        let (Some(first), Some(last)) = (self.first_step, self.last_step) else {
            return Vec::new();
        };
        let span = (last - first).max(1) as f64;
        self.buckets
            .iter()
            .filter(|b| b.n > 0)
            .map(|b| {
                let n = b.n as f64;
                let t = b.lo(self.level) as f64 + b.st as f64 / n;
                let var_within = (b.n >= 3).then(|| {
                    let cyy = centred(b.syy, b.sy, b.sy, b.n);
                    let ctt = centred(b.stt, b.st, b.st, b.n);
                    let cty = centred(b.sty, b.st, b.sy, b.n);
                    let resid = if ctt > 0.0 { cyy - cty * cty / ctt } else { cyy };
                    (resid / (n - 2.0)).max(0.0) / (Q * Q)
                });
                let lr = (b.nlr == b.n && b.n > 0).then(|| {
                    let geo = if b.nlr_pos == b.nlr { (b.slr as f64 / b.nlr_pos as f64 / Q).exp() } else { 0.0 };
                    (geo, b.lr_min, b.lr_max)
                });
                Pt {
                    t,
                    u: (t - first as f64) / span,
                    n,
                    y: b.sy as f64 / n / Q,
                    ymax: b.ymax as f64 / Q,
                    ymin: b.ymin as f64 / Q,
                    dmax: if b.nd > 0 { b.dmax as f64 / Q } else { f64::NEG_INFINITY },
                    t_dmax: b.t_dmax,
                    t_first: b.t_first,
                    t_last: b.t_last,
                    var_within,
                    lr,
                }
            })
            .collect()
    }

    /// Exact totals over every bucket (re-centred on the first bucket's start).
    pub fn totals(&self) -> Totals {
        let mut all = Bucket::empty(0);
        let base = self.buckets.first().map_or(0, |b| b.lo(self.level));
        for b in &self.buckets {
            let mut c = *b;
            c.shift(b.lo(self.level) - base);
            all.absorb(&c);
        }
        let mut out = Totals {
            n: all.n,
            nbad: all.nbad,
            first_bad: (all.nbad > 0).then_some(all.t_bad),
            pairs: all.npair,
            nlr: all.nlr,
            ..Totals::default()
        };
        if all.n > 0 {
            let n = all.n as f64;
            out.mean = all.sy as f64 / n / Q;
            let cyy = centred(all.syy, all.sy, all.sy, all.n);
            let ctt = centred(all.stt, all.st, all.st, all.n);
            let cty = centred(all.sty, all.st, all.sy, all.n);
            out.var = cyy / (n - 1.0).max(1.0) / (Q * Q);
            if ctt > 0.0 && all.n > 2 {
                out.slope = cty / ctt / Q;
                let resid = (cyy - cty * cty / ctt).max(0.0) / (n - 2.0) / (Q * Q);
                out.slope_se = (resid / ctt).sqrt();
            }
        }
        if all.nd > 1 {
            out.delta_var = centred(all.sdd, all.sd, all.sd, all.nd) / (all.nd - 1) as f64 / (Q * Q);
        }
        if all.npair > 0 {
            out.sign_change_rate = all.nsc as f64 / all.npair as f64;
        }
        out
    }
}

/// Median of a slice (NaN-free); 0 for an empty one.
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    }
}

/// Running median of `ys` over a centred window of `2w + 1` points (shrunk at the ends).
pub fn running_median(ys: &[f64], w: usize) -> Vec<f64> {
    (0..ys.len())
        .map(|i| {
            let k = w.min(i).min(ys.len() - 1 - i);
            median(&ys[i - k..=i + k])
        })
        .collect()
}

/// Weighted least-squares line `y = a + b x`: slope, its standard error from the residuals (inflated
/// for lag-1 autocorrelation of the residuals), and the residual scale.
#[derive(Debug, Clone, Copy, Default)]
pub struct Fit {
    pub intercept: f64,
    pub slope: f64,
    pub se: f64,
    pub resid_sd: f64,
    pub count: usize,
}

pub fn fit_line(xs: &[f64], ys: &[f64], ws: &[f64]) -> Fit {
    let k = xs.len();
    if k < 3 {
        return Fit { count: k, ..Fit::default() };
    }
    let sw: f64 = ws.iter().sum();
    let mx = xs.iter().zip(ws).map(|(x, w)| x * w).sum::<f64>() / sw;
    let my = ys.iter().zip(ws).map(|(y, w)| y * w).sum::<f64>() / sw;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for ((x, y), w) in xs.iter().zip(ys).zip(ws) {
        sxx += w * (x - mx) * (x - mx);
        sxy += w * (x - mx) * (y - my);
    }
    if sxx <= 0.0 {
        return Fit { count: k, intercept: my, ..Fit::default() };
    }
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let resid: Vec<f64> = xs.iter().zip(ys).map(|(x, y)| y - intercept - slope * x).collect();
    let rss: f64 = resid.iter().zip(ws).map(|(r, w)| w * r * r).sum();
    let s2 = rss / (sw * (k as f64 - 2.0) / k as f64);
    let (mut c0, mut c1) = (0.0, 0.0);
    for i in 0..k {
        c0 += resid[i] * resid[i];
        if i > 0 {
            c1 += resid[i] * resid[i - 1];
        }
    }
    let rho = if c0 > 0.0 { (c1 / c0).clamp(0.0, 0.95) } else { 0.0 };
    let inflate = ((1.0 + rho) / (1.0 - rho)).sqrt();
    Fit { intercept, slope, se: (s2 / sxx).sqrt() * inflate, resid_sd: (s2 * k as f64 / sw).sqrt(), count: k }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_is_exact_for_huge_offsets() {
        // Values 10^15 + {0, 1, 2, 3}: variance numerator 5, which naive f64 arithmetic loses.
        let xs: Vec<i128> = (0..4).map(|i| 1_000_000_000_000_000 + i).collect();
        let sx: i128 = xs.iter().sum();
        let sxx: i128 = xs.iter().map(|x| x * x).sum();
        assert_eq!(centred(sxx, sx, sx, 4), 5.0);
    }

    #[test]
    fn running_median_removes_a_lone_spike_and_keeps_a_ramp() {
        let mut ys: Vec<f64> = (0..20).map(|i| i as f64).collect();
        ys[10] = 100.0;
        let m = running_median(&ys, 2);
        assert_eq!(m[10], 11.0);
        assert_eq!(m[5], 5.0);
    }
}
