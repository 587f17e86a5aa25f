//! The verdict: ordered rules over [`Features`], each with a confidence from its margin.
//!
//! Order: bad values and too little data first, then divergence (NaN/Inf or an explosion that stays),
//! a rise from the start, spikes on a sound trend, and finally the trend shapes (plateau, healthy,
//! slow, oscillating). Every threshold is in log-loss units relative to the measured noise, or a ratio.

use super::advice::advise;
use super::diagnosis::{g3, sureness, Diagnosis, Evidence, Finding, Label};
use super::features::{measure, Features};
use super::segments::segments;
use super::series::Series;
use super::val::overfitting;

/// Fewer finite points than this: `insufficient_data`.
pub const MIN_POINTS: u64 = 20;
/// An explosion: the level rises this far (log) over its running minimum and stays half as high.
const EXPLODE: f64 = 2.0794415416798357; // ln 8
/// Diverged whatever the start: the level climbs this far (log) over its running minimum (x10^4).
const ASTRONOMICAL: f64 = 9.21;
/// A rise from the start: this many standard errors and at least this much (log).
const RISE_Z: f64 = 4.0;
const RISE_MIN: f64 = 0.12;
/// Progress: the total drop in standard errors, or the slope of a line through the whole run.
const DROP_Z: f64 = 4.0;
const WHOLE_Z: f64 = 5.0;
/// Healthy runs decelerate: early slope over late slope at least this.
const DECEL: f64 = 2.3;
/// A plateau: less than this share of the total drop comes after the first 30% of the run.
const PLATEAU_SHARE: f64 = 0.13;
/// Below this point noise (log-loss SD, i.e. 1% of the loss) a run without progress is stuck, not
/// noise-dominated.
const QUIET: f64 = 0.01;
/// The LR counts as decayed at the end below this fraction of its maximum.
const LR_DECAYED: f64 = 0.15;

pub fn classify(train: &Series, val: &Series) -> Diagnosis {
    let f = measure(train);
    let (label, confidence, first_bad) = verdict(&f);
    let mut findings = Vec::new();
    if let Some(step) = first_bad {
        findings.push(Finding {
            kind: "divergence",
            step,
            size: None,
            recovery_steps: None,
            message: format!("the loss is NaN/Inf or explodes from step {step} on"),
        });
    }
    for s in &f.spikes {
        findings.push(Finding {
            kind: "spike",
            step: s.step,
            size: Some(s.factor),
            recovery_steps: s.recovery_steps,
            message: format!(
                "spike at step {}: x{} over the local level ({:.1} noise SDs){}",
                s.step,
                g3(s.factor),
                s.z,
                s.recovery_steps.map_or(", not recovered".into(), |r| format!(", back within {r} steps"))
            ),
        });
    }
    let segs = segments(&f, label, first_bad);
    for w in segs.windows(2) {
        findings.push(Finding {
            kind: "change_point",
            step: w[1].start_step,
            size: None,
            recovery_steps: None,
            message: format!("{} -> {} at step {}", w[0].label, w[1].label, w[1].start_step),
        });
    }
    if let Some(of) = overfitting(val, &f) {
        findings.push(of);
    }
    let advice = advise(label, &f, first_bad, train);
    let mut ev = evidence(&f, train);
    ev.push(("change_point_steps", Evidence::List(segs.iter().skip(1).map(|g| g.start_step as f64).collect())));
    Diagnosis { label, confidence, advice, first_bad_step: first_bad, segments: segs, findings, evidence: ev }
}

fn verdict(f: &Features) -> (Label, f64, Option<u64>) {
    let t = &f.totals;
    if t.nbad > 0 {
        return (Label::Diverged, 0.99, t.first_bad);
    }
    if t.n < MIN_POINTS || f.pts.len() < 4 {
        return (Label::InsufficientData, 1.0, None);
    }
    // Divergence without NaN: far above the running minimum and still up at the end, after a sound
    // start (else the run rose from its first step: rising_early), or astronomically far.
    let sound_start = f.descent_before_excess >= (4.0 * f.start_se).max(0.1);
    let exploded = f.excess >= EXPLODE && f.end_excess >= 0.5 * EXPLODE;
    if (exploded && sound_start) || f.excess >= ASTRONOMICAL {
        let i = f.excess_index.unwrap_or(0);
        let p = &f.pts[i];
        let step = if p.dmax.is_finite() && p.dmax > 0.3 * EXPLODE { p.t_dmax } else { p.t_first };
        let c = sureness((f.excess - EXPLODE) / 0.5).max(sureness((f.end_excess - 0.5 * EXPLODE) / 0.5)).min(0.99);
        return (Label::Diverged, c, Some(step));
    }
    let drop_z = f.drop / f.drop_se.max(1e-300);
    let no_dip = f.dip_before_rise < (4.0 * f.start_se).max(0.75 * f.rise);
    let rose = f.rise_z >= RISE_Z || (f.rise_z >= 0.5 * RISE_Z && drop_z <= -3.0);
    if (rose && f.rise >= RISE_MIN && no_dip) || (exploded && !sound_start) {
        let c = sureness((f.rise_z - RISE_Z) / 3.0).min(sureness((f.rise - RISE_MIN) / 0.1));
        return (Label::RisingEarly, c.max(if exploded { 0.8 } else { 0.0 }), None);
    }
    let (base, base_conf) = trend(f);
    if !f.spikes.is_empty() && matches!(base, Label::Healthy | Label::Slow | Label::Plateau) {
        let top = f.spikes.iter().map(|s| s.z).fold(0.0, f64::max);
        return (Label::Spiky, sureness((top - super::features::SPIKE_Z) / 3.0).max(0.6), None);
    }
    (base, base_conf, None)
}

/// The trend shapes, for a run without divergence, early rise or spikes.
fn trend(f: &Features) -> (Label, f64) {
    let drop_z = f.drop / f.drop_se.max(1e-300);
    let lr_decayed = f.lr_end_ratio.is_some_and(|r| r <= LR_DECAYED);
    // Progress: the end well below the start, or a clearly falling straight line through the run.
    let whole_z = -f.whole.slope / f.whole.se.max(1e-300);
    if drop_z < DROP_Z && whole_z < WHOLE_Z {
        // No significant progress over the run: noise-dominated, or (nearly noiseless) stuck.
        let c = sureness((DROP_Z - drop_z) / 2.0);
        if f.sigma >= QUIET {
            return (Label::Oscillating, c.min(sureness((f.sigma / QUIET).ln() / 0.7)));
        }
        return (Label::Slow, 0.5 * c);
    }
    // A plateau: almost all of the drop happened in the first 30% of the run while the LR stayed up.
    if f.late_share < PLATEAU_SHARE && !lr_decayed {
        let c = sureness((PLATEAU_SHARE - f.late_share) / 0.05);
        return (Label::Plateau, c);
    }
    if f.decel >= DECEL || lr_decayed {
        let c = if lr_decayed { 0.8 } else { sureness((f.decel.min(50.0) / DECEL).ln() / 0.4) };
        return (Label::Healthy, c);
    }
    let c = sureness((DECEL / f.decel.max(1e-3)).ln() / 0.4).min(sureness((drop_z - DROP_Z) / 3.0));
    (Label::Slow, c)
}

fn evidence(f: &Features, train: &Series) -> Vec<(&'static str, Evidence)> {
    use Evidence::{List, Num};
    let t = &f.totals;
    let mut ev = vec![
        ("points", Num(t.n as f64)),
        ("non_finite_points", Num(t.nbad as f64)),
        ("buckets", Num(f.pts.len() as f64)),
        ("bucket_width_steps", Num((1u64 << train.level.min(63)) as f64)),
        ("noise_sigma", Num(f.sigma)),
        ("noise_sigma_from_differences", Num(f.sigma_delta)),
        ("noise_sigma_effective", Num(f.sigma_eff)),
        ("sign_change_rate", Num(t.sign_change_rate)),
        ("mean_log_loss", Num(t.mean)),
        ("slope_per_step", Num(t.slope)),
        ("slope_per_step_se", Num(t.slope_se)),
        ("start_log_loss", Num(f.start)),
        ("end_log_loss", Num(f.end)),
        ("total_drop", Num(f.drop)),
        ("total_drop_se", Num(f.drop_se)),
        ("early_slope", Num(f.early.slope)),
        ("early_slope_se", Num(f.early.se)),
        ("late_slope", Num(f.late.slope)),
        ("late_slope_se", Num(f.late.se)),
        ("deceleration", Num(f.decel)),
        ("flat_from_fraction", Num(f.flat_from)),
        ("flat_slope", Num(f.flat.slope)),
        ("flat_slope_se", Num(f.flat.se)),
        ("early_rise", Num(f.rise)),
        ("early_rise_z", Num(f.rise_z)),
        ("max_excess_over_running_min", Num(f.excess)),
        ("descent_before_excess", Num(f.descent_before_excess)),
        ("dip_before_rise", Num(f.dip_before_rise)),
        ("late_share", Num(f.late_share)),
        ("whole_slope", Num(f.whole.slope)),
        ("whole_slope_se", Num(f.whole.se)),
        ("start_se", Num(f.start_se)),
        ("spike_count", Num(f.spikes.len() as f64)),
        ("spike_max_z", Num(f.spikes.iter().map(|s| s.z).fold(0.0, f64::max))),
        ("spike_max_factor", Num(f.spikes.iter().map(|s| s.factor).fold(0.0, f64::max))),
        ("spike_steps", List(f.spikes.iter().map(|s| s.step as f64).collect())),
    ];
    if let Some(r) = f.lr_end_ratio {
        ev.push(("lr_end_over_max", Num(r)));
    }
    ev
}
