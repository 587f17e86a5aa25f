//! Per-segment findings: the run split at its change points (binary segmentation of the spike-free
//! bucket means into straight pieces, a split kept only when it explains far more than the noise, or
//! the split the verdict implies), each piece labelled by the change of its level against the noise,
//! consistently with the verdict.

use super::diagnosis::{sureness, Label, Segment};
use super::features::Features;
use super::stats::median;

/// Prefix sums for weighted straight-line fits over any range in O(1).
struct Prefix {
    w: Vec<f64>,
    x: Vec<f64>,
    y: Vec<f64>,
    xx: Vec<f64>,
    xy: Vec<f64>,
    yy: Vec<f64>,
}

impl Prefix {
    fn new(xs: &[f64], ys: &[f64], ws: &[f64]) -> Self {
        let mut p = Prefix { w: vec![0.0], x: vec![0.0], y: vec![0.0], xx: vec![0.0], xy: vec![0.0], yy: vec![0.0] };
        for i in 0..xs.len() {
            let (x, y, w) = (xs[i], ys[i], ws[i]);
            p.w.push(p.w[i] + w);
            p.x.push(p.x[i] + w * x);
            p.y.push(p.y[i] + w * y);
            p.xx.push(p.xx[i] + w * x * x);
            p.xy.push(p.xy[i] + w * x * y);
            p.yy.push(p.yy[i] + w * y * y);
        }
        p
    }

    /// Residual sum of squares and slope of the weighted line through points `[a, b)`.
    fn fit(&self, a: usize, b: usize) -> (f64, f64, f64) {
        let d = |v: &Vec<f64>| v[b] - v[a];
        let (w, x, y) = (d(&self.w), d(&self.x), d(&self.y));
        let sxx = d(&self.xx) - x * x / w;
        let sxy = d(&self.xy) - x * y / w;
        let syy = d(&self.yy) - y * y / w;
        if sxx <= 0.0 {
            return (syy.max(0.0), 0.0, f64::INFINITY);
        }
        let slope = sxy / sxx;
        (((syy - slope * sxy).max(0.0)), slope, sxx)
    }
}

fn split(p: &Prefix, a: usize, b: usize, min_len: usize, penalty: f64, depth: u32, cuts: &mut Vec<usize>) {
    if depth == 0 || b - a < 2 * min_len {
        return;
    }
    let whole = p.fit(a, b).0;
    let mut best = (whole, 0);
    for c in a + min_len..=b - min_len {
        let rss = p.fit(a, c).0 + p.fit(c, b).0;
        if rss < best.0 {
            best = (rss, c);
        }
    }
    if best.1 == 0 || whole - best.0 < penalty {
        return;
    }
    split(p, a, best.1, min_len, penalty, depth - 1, cuts);
    cuts.push(best.1);
    split(p, best.1, b, min_len, penalty, depth - 1, cuts);
}

pub fn segments(f: &Features, label: Label, first_bad: Option<u64>) -> Vec<Segment> {
    let pts: Vec<_> = f.pts.iter().enumerate().filter(|(_, p)| first_bad.is_none_or(|s| p.t_last < s)).collect();
    let end_step = f.last_step;
    let mut out = Vec::new();
    if pts.len() >= 8 && f.level.len() == f.pts.len() {
        let xs: Vec<f64> = pts.iter().map(|(_, p)| p.u).collect();
        let ys: Vec<f64> = pts.iter().map(|(i, _)| f.level[*i]).collect();
        let ws: Vec<f64> = pts.iter().map(|(_, p)| p.n).collect();
        let cuts = verdict_cuts(f, label, &ys, &xs).unwrap_or_else(|| {
            let prefix = Prefix::new(&xs, &ys, &ws);
            let penalty = f.sigma * f.sigma * 12.0 * (pts.len() as f64).ln() * (2.0 * f.window as f64 + 1.0).sqrt();
            let mut cuts = Vec::new();
            split(&prefix, 0, pts.len(), (pts.len() / 10).max(3), penalty, 2, &mut cuts);
            cuts
        });
        let mut bounds = vec![0];
        bounds.extend(cuts);
        bounds.push(pts.len());
        for (k, w) in bounds.windows(2).enumerate() {
            let (a, b) = (w[0], w[1]);
            let (seg_label, confidence) = piece_label(f, label, k, &ys[a..b], &ws[a..b]);
            let start = pts[a].1.t_first;
            let stop = if b == pts.len() { if first_bad.is_some() { pts[b - 1].1.t_last } else { end_step } } else { pts[b].1.t_first.saturating_sub(1) };
            out.push(Segment { start_step: start, end_step: stop, label: seg_label, confidence });
        }
    }
    if out.is_empty() {
        if let Some(p) = f.pts.first() {
            out.push(Segment { start_step: p.t_first, end_step: first_bad.map_or(end_step, |s| s.saturating_sub(1)), label, confidence: 0.5 });
        }
    }
    if let Some(s) = first_bad {
        out.retain(|g| g.start_step < s);
        out.push(Segment { start_step: s, end_step, label: Label::Diverged, confidence: 0.99 });
    }
    out
}

/// Cuts the verdict itself implies: a plateau splits where the level reaches its final band (the
/// drop, then the flat part); an early rise where the level is back below where the run started.
/// Until then the run is still paying for the too-large LR (thrashing above its starting loss, even
/// while a decay slowly brings it down), so the rise and that stretch are one `rising_early` piece.
fn verdict_cuts(f: &Features, label: Label, ys: &[f64], xs: &[f64]) -> Option<Vec<usize>> {
    let b = ys.len();
    let cut = match label {
        Label::Plateau => xs.iter().position(|&u| u >= f.flat_from)?,
        Label::RisingEarly => {
            let climbed = ys.iter().position(|&y| y >= f.rise_start + 0.75 * (f.rise_level - f.rise_start))? + 1;
            ys[climbed..].iter().position(|&y| y <= f.rise_start).map_or(b, |i| climbed + i)
        }
        _ => return None,
    };
    Some(if cut >= 1 && cut < b { vec![cut] } else { Vec::new() })
}

/// A piece's label from the change of its level between its ends against the noise of those ends (a
/// straight-line slope would call a steep curved drop flat), made consistent with the run's verdict.
fn piece_label(f: &Features, verdict: Label, k: usize, ys: &[f64], ws: &[f64]) -> (Label, f64) {
    if verdict == Label::RisingEarly && k == 0 {
        // The verdict cut this piece where the level came back below its start: the rise and its aftermath.
        return (Label::RisingEarly, sureness((f.rise_z - 4.0) / 3.0));
    }
    let n = ys.len();
    let m = (n / 5).max(1);
    let (head, tail) = (median(&ys[..m]), median(&ys[n - m..]));
    let (wa, wb): (f64, f64) = (ws[..m].iter().sum(), ws[n - m..].iter().sum());
    let se = f.sigma_eff * (1.2533 * (1.0 / wa.max(1.0) + 1.0 / wb.max(1.0))).sqrt();
    // A change counts when it is well above the noise and a visible share of the run's own drop.
    let floor = (3.0 * se).max(0.1 * f.drop.abs()).max(0.02);
    let change = tail - head;
    let confidence = sureness((change.abs() - floor).abs() / floor.max(1e-300));
    let label = if change < -floor {
        match verdict {
            Label::Slow => Label::Slow,
            _ => Label::Healthy,
        }
    } else if change > floor {
        if k == 0 {
            Label::RisingEarly
        } else if change > 0.69 {
            Label::Diverged
        } else {
            Label::Plateau
        }
    } else {
        // No real change: the verdict's own word for a run without progress, else a plateau.
        match verdict {
            Label::Oscillating | Label::RisingEarly => Label::Oscillating,
            Label::Slow => Label::Slow,
            _ => Label::Plateau,
        }
    };
    (label, confidence)
}
