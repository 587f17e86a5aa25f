//! What to do about the LR, per verdict (after /work/shared/lr-rules.md: warmup and clipping before a
//! lower peak LR for early instability, retrain the last part from a checkpoint for a plateau, restart
//! from scratch for a wrong initial LR, roll back and skip batches for spikes).

use super::diagnosis::{g3, Label};
use super::features::Features;
use super::series::Series;

fn lr_hint(f: &Features, factor: f64, up: bool) -> String {
    match f.lr_max {
        Some(lr) if lr > 0.0 => {
            let to = if up { lr * factor } else { lr / factor };
            format!(" (peak LR {} -> {})", g3(lr), g3(to))
        }
        _ => String::new(),
    }
}

/// The step at run fraction `u` (first step of the bucket holding it).
fn step_at(f: &Features, u: f64) -> u64 {
    f.pts.iter().find(|p| p.u >= u).or(f.pts.last()).map_or(0, |p| p.t_first)
}

pub fn advise(label: Label, f: &Features, first_bad: Option<u64>, train: &Series) -> String {
    match label {
        Label::InsufficientData => format!(
            "Only {} finite points: log at least 20 (better a few hundred) before judging the LR.",
            f.totals.n
        ),
        Label::Healthy => {
            let mut s = "The LR looks right: keep it.".to_owned();
            match f.lr_end_ratio {
                Some(r) if r > 0.01 => s += &format!(
                    " Your LR ends at {} of its peak; decaying it by 100x or more by the end usually lowers the final loss.",
                    g3(r)
                ),
                None => s += " Make sure the schedule decays the LR by 100x or more by the end.",
                _ => {}
            }
            s
        }
        Label::RisingEarly => {
            let factor = if f.rise > 3f64.ln() { 10.0 } else { 3.0 };
            format!(
                "The loss rises from the start: the initial LR is too large. First add or lengthen warmup (e.g. 5% of \
                 the run) and clip gradients (max-norm 1.0); if it still rises, lower the LR by {factor}x{} and restart \
                 from scratch.",
                lr_hint(f, factor, false)
            )
        }
        Label::Plateau => {
            let step = step_at(f, f.flat_from);
            format!(
                "Fast early progress, then flat from about step {step} while the LR stays high: the LR is too large for \
                 this stage. Lower it by 10x{} (or start decaying it: cosine, or step decay with gamma 0.1) and retrain \
                 from a checkpoint at or before step {step}; no need to restart from scratch.",
                lr_hint(f, 10.0, false)
            )
        }
        Label::Slow => {
            let factor = if f.decel < 1.0 { 10.0 } else { 3.0 };
            format!(
                "Slow, steady progress with no deceleration: the LR is too small. Raise it by {factor}x{} and restart \
                 from scratch (keep a short warmup).",
                lr_hint(f, factor, true)
            )
        }
        Label::Diverged => {
            let step = first_bad.unwrap_or(0);
            let early = train.first_step.is_some_and(|s0| {
                let span = train.last_step.unwrap_or(s0).saturating_sub(s0).max(1);
                (step.saturating_sub(s0)) as f64 <= 0.1 * span as f64
            });
            let restart = if early {
                "this is early in the run: add warmup and restart from scratch with a lower peak LR".to_owned()
            } else {
                format!("retrain from a checkpoint a few hundred steps before step {step}")
            };
            format!(
                "Training diverged at step {step} (NaN/Inf or an explosion far above the best loss so far). Lower the LR \
                 by 3x{} and clip gradients (max-norm 1.0); {restart}.",
                lr_hint(f, 3.0, false)
            )
        }
        Label::Spiky => {
            let steps: Vec<String> = f.spikes.iter().take(5).map(|s| s.step.to_string()).collect();
            format!(
                "The trend is sound with isolated loss spikes (at step {}{}). Clip gradients (max-norm 1.0); for a large \
                 spike roll back a few hundred steps before it and skip the offending batches. If spikes keep coming, \
                 lower the LR by 1.5-2x{}.",
                steps.join(", "),
                if f.spikes.len() > 5 { ", ..." } else { "" },
                lr_hint(f, 2.0, false)
            )
        }
        Label::Oscillating => format!(
            "Noise dominates and the loss makes no progress: lower the LR by 3-10x{} or raise the batch size, then \
             restart from scratch. If the LR is already small, check the data pipeline and the model.",
            lr_hint(f, 3.0, false)
        ),
    }
}
