//! The `overfitting` finding: validation loss turns up while training loss keeps falling (an issue
//! of its own, not an LR verdict).

use super::diagnosis::{g3, Finding};
use super::features::Features;
use super::series::Series;
use super::stats::{median, running_median};

/// Least rise of the validation loss over its minimum (log) that counts.
const MIN_RISE: f64 = 0.05;

pub fn overfitting(val: &Series, train: &Features) -> Option<Finding> {
    let pts = val.points();
    if pts.len() < 6 || train.level.is_empty() {
        return None;
    }
    let ys: Vec<f64> = pts.iter().map(|p| p.y).collect();
    let level = running_median(&ys, 1);
    let resid: Vec<f64> = ys.iter().zip(&level).map(|(y, l)| (y - l).abs()).collect();
    let noise = (1.4826 * median(&resid) * 1.5).max(1e-6);
    let (imin, vmin) = level.iter().enumerate().fold((0, f64::INFINITY), |a, (i, &v)| if v < a.1 { (i, v) } else { a });
    let k = (pts.len() / 6).max(2);
    let end = median(&ys[pts.len() - k..]);
    let rise = end - vmin;
    if imin + k >= pts.len() || rise < MIN_RISE || rise < 4.0 * noise {
        return None;
    }
    // Training must not be rising over the same stretch (then it is not overfitting).
    let t_min = pts[imin].t;
    let train_at = |t: f64| -> f64 {
        let i = train.pts.iter().position(|p| p.t >= t).unwrap_or(train.pts.len() - 1);
        train.level[i]
    };
    if train.end > train_at(t_min) + 0.5 * rise {
        return None;
    }
    let step = pts[imin].t_first;
    Some(Finding {
        kind: "overfitting",
        step,
        size: Some(rise.exp()),
        recovery_steps: None,
        message: format!(
            "validation loss bottoms out at step {step} and ends x{} above its minimum while training loss keeps \
             falling: overfitting (use the checkpoint near step {step}, more data or regularisation; not an LR problem)",
            g3(rise.exp())
        ),
    })
}
