//! Core tests: the streaming state is exact under chunking, merging and threads; statistics match a
//! high-precision reference at 10^8 points; verdicts on clear synthetic curves.

use super::ingest::{Input, Lr};
use super::series::Series;
use super::stats::centred;
use super::*;
use ndarray::ArrayView1;

/// Deterministic noise for tests (xorshift64* and Box-Muller).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let (a, b) = (self.uniform(), self.uniform());
        (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos()
    }
}

/// `scale * exp(trend(u) + sigma * noise)` at `n` points.
pub fn curve(n: usize, sigma: f64, seed: u64, trend: impl Fn(f64) -> f64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|i| 3.7 * (trend(i as f64 / (n - 1).max(1) as f64) + sigma * rng.normal()).exp()).collect()
}

fn input<'a>(values: &'a [f64], steps: Option<&'a [u64]>, start: u64) -> Input<'a, f64, u64> {
    Input {
        values: ArrayView1::from(values),
        steps: steps.map(ArrayView1::from),
        lr: Lr::None,
        implicit_start: start,
        what: "loss",
        steps_what: "steps",
        offset: 0,
    }
}

fn monitor_of(values: &[f64], steps: &[u64], cuts: &[usize]) -> Monitor {
    let mut m = Monitor::new();
    let mut lo = 0;
    for &hi in cuts.iter().chain(std::iter::once(&values.len())) {
        let none: Option<Input<'_, f64, u64>> = None;
        m.update(input(&values[lo..hi], Some(&steps[lo..hi]), 0), none).unwrap();
        lo = hi;
    }
    m
}

fn messy(n: usize, seed: u64) -> (Vec<f64>, Vec<u64>) {
    let mut rng = Rng::new(seed);
    let mut values = curve(n, 0.3, seed, |u| -2.0 * u);
    for v in &mut values {
        if rng.uniform() < 0.01 {
            *v = f64::NAN;
        }
        if rng.uniform() < 0.002 {
            *v *= 1e6;
        }
    }
    let mut t = (1u64 << 40) + 3;
    let steps = (0..n)
        .map(|_| {
            t += 1 + (rng.uniform() * 40.0) as u64;
            t
        })
        .collect();
    (values, steps)
}

#[test]
fn chunking_does_not_change_the_state() {
    let (values, steps) = messy(20_000, 1);
    let whole = monitor_of(&values, &steps, &[]);
    assert!(whole.train.level > 0);
    for cuts in [vec![1, 2, 3], vec![255, 256, 257, 5000], vec![9_999, 10_000, 19_999], (1..40).map(|i| i * 497).collect()] {
        assert_eq!(monitor_of(&values, &steps, &cuts), whole, "cuts {cuts:?}");
    }
}

#[test]
fn merge_grouping_does_not_change_the_state() {
    let (values, steps) = messy(12_000, 2);
    let whole = monitor_of(&values, &steps, &[]);
    let cuts = [0, 1, 700, 701, 4096, 9000, 12_000];
    let parts: Vec<Monitor> = cuts.windows(2).map(|w| monitor_of(&values[w[0]..w[1]], &steps[w[0]..w[1]], &[])).collect();
    let mut left = Monitor::new();
    for p in &parts {
        left.merge(p).unwrap();
    }
    assert_eq!(left, whole);
    // Right-leaning grouping: ((p4 + p5) then p3 ...) folded from the back.
    let mut right = parts.last().unwrap().clone();
    for p in parts.iter().rev().skip(1) {
        let mut q = p.clone();
        q.merge(&right).unwrap();
        right = q;
    }
    assert_eq!(right, whole);
    assert_eq!(left.diagnose(), whole.diagnose());
}

#[test]
fn threads_do_not_change_the_state() {
    let (values, steps) = messy(600_000, 3);
    let parallel = input(&values, Some(&steps), 0).to_series(1024, 0).unwrap();
    let mut sequential = Series::new(1024, 0);
    input(&values, Some(&steps), 0).append_to(&mut sequential).unwrap();
    assert_eq!(parallel, sequential);
}

#[test]
fn rewound_steps_are_an_error_naming_the_index() {
    let values = vec![1.0; 10];
    let steps: Vec<u64> = vec![0, 1, 2, 3, 4, 5, 3, 7, 8, 9];
    let err = input(&values, Some(&steps), 0).to_series(1024, 0).unwrap_err().to_string();
    assert!(err.contains("steps[6]") && err.contains("strictly increasing"), "{err}");
    let mut m = monitor_of(&values[..5], &steps[..5], &[]);
    let none: Option<Input<'_, f64, u64>> = None;
    let err = m.update(input(&values[5..], Some(&[4, 5, 6, 7, 8]), 0), none).unwrap_err().to_string();
    assert!(err.contains("after the last step already seen (4)"), "{err}");
    assert_eq!(m, monitor_of(&values[..5], &steps[..5], &[]), "a failed update changes nothing");
}

#[test]
fn non_positive_loss_is_an_error() {
    let values = [1.0, 0.5, 0.0, 2.0];
    let err = input(&values, None, 0).to_series(1024, 0).unwrap_err().to_string();
    assert!(err.contains("loss[2]") && err.contains("> 0"), "{err}");
}

/// 10^8 points (release builds; 2·10^6 in debug) on a long plateau at steps beyond 2^40: the exact
/// state's mean, variance and slope against a two-pass compensated reference on the same values.
#[test]
fn long_plateau_statistics_match_a_high_precision_reference() {
    let n: usize = if cfg!(debug_assertions) { 2_000_000 } else { 100_000_000 };
    let start = (1u64 << 40) + 12_345;
    let slope = -3e-12; // per step: invisible to a float32 accumulator, 3e-4 over the run
    let mut rng = Rng::new(7);
    let values: Vec<f64> = (0..n).map(|i| 2.3 * (slope * i as f64 + 1e-3 * rng.normal()).exp()).collect();
    let series = input(&values, None, start).to_series(1024, 0).unwrap();
    let t = series.totals();
    // Reference: Neumaier sums of ln(x) (two passes, centred), steps centred exactly.
    let neumaier = |it: &mut dyn Iterator<Item = f64>| {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for x in it {
            let t = s + x;
            c += if s.abs() >= x.abs() { (s - t) + x } else { (x - t) + s };
            s = t;
        }
        s + c
    };
    let nf = n as f64;
    let mean = neumaier(&mut values.iter().map(|x| x.ln())) / nf;
    let tm = (nf - 1.0) / 2.0;
    let var = neumaier(&mut values.iter().map(|x| (x.ln() - mean).powi(2))) / (nf - 1.0);
    let sty = neumaier(&mut values.iter().enumerate().map(|(i, x)| (i as f64 - tm) * (x.ln() - mean)));
    let stt = nf * (nf * nf - 1.0) / 12.0;
    eprintln!(
        "{n} points: |mean - ref| = {:.2e}, var rel err = {:.2e}, slope rel err = {:.2e} (ref slope {:.3e}, se {:.1e})",
        (t.mean - mean).abs(),
        (t.var / var - 1.0).abs(),
        (t.slope / (sty / stt) - 1.0).abs(),
        sty / stt,
        t.slope_se
    );
    assert_eq!(t.n, n as u64);
    // The only error left is the rounding of each log-loss to the 2^-24 quantum (uniform, SD
    // q/sqrt(12)): allow 6 of its standard errors (10^8 points: 1e-11 on the mean).
    let q_sd = 1.0 / super::quant::Q / 12f64.sqrt();
    assert!((t.mean - mean).abs() < 6.0 * q_sd / nf.sqrt(), "mean {} vs {}", t.mean, mean);
    assert!((t.var / var - 1.0).abs() < 1e-7, "var {} vs {}", t.var, var);
    assert!((t.slope - sty / stt).abs() < 6.0 * q_sd / stt.sqrt(), "slope {} vs {}", t.slope, sty / stt);
    assert!((t.slope - slope).abs() < 5.0 * t.slope_se, "slope {} se {}", t.slope, t.slope_se);
}

#[test]
fn centred_sums_of_quantised_values_are_exact() {
    let ys: Vec<i128> = vec![38_000_000_123, 38_000_000_125, 38_000_000_124];
    let sy: i128 = ys.iter().sum();
    let syy: i128 = ys.iter().map(|y| y * y).sum();
    assert_eq!(centred(syy, sy, sy, 3), 2.0);
}

fn brief(d: &Diagnosis) -> String {
    d.evidence.iter().map(|(k, v)| format!("{k}={v:?}")).collect::<Vec<_>>().join(" ")
}

fn label_of(values: &[f64]) -> (Label, Diagnosis) {
    let mut m = Monitor::new();
    let none: Option<Input<'_, f64, u64>> = None;
    m.update(input(values, None, 0), none).unwrap();
    let d = m.diagnose();
    (d.label, d)
}

#[test]
fn clear_cases_get_their_labels() {
    let n = 2000;
    let cases: Vec<(&str, Vec<f64>, Label)> = vec![
        ("healthy power law", curve(n, 0.05, 11, |u| -0.5 * (1.0 + 300.0 * u).ln()), Label::Healthy),
        ("slow linear", curve(n, 0.03, 12, |u| -0.3 * u), Label::Slow),
        ("plateau", curve(n, 0.03, 13, |u| (0.1 + (-u / 0.05).exp()).ln()), Label::Plateau),
        ("rising", curve(n, 0.1, 14, |u| 1.2 * (1.0 - (-u / 0.05).exp())), Label::RisingEarly),
        ("oscillating", curve(n, 0.4, 15, |_| 0.0), Label::Oscillating),
        ("exploding", curve(n, 0.03, 16, |u| if u < 0.5 { -u } else { 4.0 }), Label::Diverged),
    ];
    for (name, values, want) in cases {
        let (got, d) = label_of(&values);
        assert_eq!(got, want, "{name}: {}", brief(&d));
    }
}

#[test]
fn nan_is_divergence_at_its_step() {
    let mut values = curve(500, 0.05, 17, |u| -u);
    values[321] = f64::NAN;
    let (label, d) = label_of(&values);
    assert_eq!(label, Label::Diverged);
    assert_eq!(d.first_bad_step, Some(321));
}

#[test]
fn spikes_are_found_with_their_step() {
    let mut values = curve(3000, 0.02, 18, |u| -0.5 * (1.0 + 100.0 * u).ln());
    values[1200] *= 20.0;
    values[1201] *= 5.0;
    values[2400] *= 8.0;
    let (label, d) = label_of(&values);
    assert_eq!(label, Label::Spiky, "{}", brief(&d));
    let steps: Vec<u64> = d.findings.iter().filter(|f| f.kind == "spike").map(|f| f.step).collect();
    assert_eq!(steps, vec![1200, 2400]);
}

#[test]
fn few_points_are_insufficient() {
    let (label, _) = label_of(&curve(12, 0.05, 19, |u| -u));
    assert_eq!(label, Label::InsufficientData);
}

#[test]
fn memory_is_bounded() {
    let values = curve(50_000, 0.1, 20, |u| -u);
    let mut m = Monitor::new();
    for c in values.chunks(777) {
        let none: Option<Input<'_, f64, u64>> = None;
        m.update(input(c, None, m.train.next_step()), none).unwrap();
        assert!(m.train.buckets.len() <= monitor::TRAIN_CAP);
        assert!(m.nbytes() <= Monitor::max_nbytes());
    }
}
