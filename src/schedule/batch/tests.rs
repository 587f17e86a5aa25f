//! Batch evaluation reproduces the scalar `value` bit for bit, for every family, at every SIMD level
//! this CPU has, however the steps are split into blocks and threads.

use super::{eval_at, Scratch};
use crate::schedule::fastmath::simd;
use crate::schedule::{eval_into, trajectory_into, Schedule};
use ndarray::ArrayView1;
use proptest::prelude::*;

fn parse(json: &str) -> Schedule {
    Schedule::from_json(json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

/// Every family, with the parameter variants that take different batch paths.
fn every_family() -> Vec<Schedule> {
    let many: Vec<String> = (1..=80).map(|i| (i * 37).to_string()).collect();
    let many_values: Vec<String> = (0..=80).map(|i| format!("{}", 0.5 + (i % 7) as f64 * 0.01)).collect();
    let cosine = r#"{"kind":"cosine","lr":0.1,"min_lr":0.001,"decay_steps":1000,"exponent":1,"periodic":false,"begin":0}"#;
    let mut specs = vec![
        r#"{"kind":"constant","lr":0.3}"#.to_string(),
        r#"{"kind":"step_decay","lr":0.1,"step_size":30,"gamma":0.5}"#.into(),
        r#"{"kind":"step_decay","lr":0.1,"step_size":7,"gamma":0.93}"#.into(),
        r#"{"kind":"multi_step","lr":0.1,"milestones":[30,80,200],"gamma":0.1}"#.into(),
        format!(r#"{{"kind":"multi_step","lr":0.1,"milestones":[{}],"gamma":0.9}}"#, many[..20].join(",")),
        format!(r#"{{"kind":"multi_step","lr":0.1,"milestones":[{}],"gamma":0.9}}"#, many.join(",")),
        r#"{"kind":"exponential","lr":0.1,"decay_rate":0.96,"decay_steps":100,"staircase":false,"begin":0,"end_lr":null}"#.into(),
        r#"{"kind":"exponential","lr":0.1,"decay_rate":0.5,"decay_steps":10,"staircase":true,"begin":25,"end_lr":0.001}"#.into(),
        r#"{"kind":"exponential","lr":0.01,"decay_rate":1.5,"decay_steps":100,"staircase":false,"begin":0,"end_lr":0.2}"#.into(),
        r#"{"kind":"inverse_time","lr":0.1,"decay_rate":0.5,"decay_steps":10,"staircase":true}"#.into(),
        r#"{"kind":"polynomial","lr":0.1,"end_lr":0.0001,"decay_steps":500,"power":1,"cycle":false,"begin":0}"#.into(),
        r#"{"kind":"polynomial","lr":0.1,"end_lr":0.0001,"decay_steps":500,"power":2.5,"cycle":true,"begin":10}"#.into(),
        r#"{"kind":"linear","lr":0.1,"start_factor":0.1,"end_factor":1,"steps":300,"begin":5}"#.into(),
        r#"{"kind":"polynomial","lr":0.1,"end_lr":0.0,"decay_steps":300,"power":2,"cycle":false,"begin":0}"#.into(),
        r#"{"kind":"cosine","lr":0.1,"min_lr":0,"decay_steps":900,"exponent":2,"periodic":false,"begin":-5}"#.into(),
        cosine.into(),
        r#"{"kind":"cosine","lr":0.1,"min_lr":0,"decay_steps":777,"exponent":0.5,"periodic":true,"begin":3}"#.into(),
        r#"{"kind":"cosine_restarts","lr":0.1,"min_lr":0.001,"period":100,"period_mult":1,"decay":0.8,"cycle_warmup":5,"exponent":1}"#.into(),
        r#"{"kind":"cosine_restarts","lr":0.1,"min_lr":0.0,"period":10,"period_mult":2,"decay":1,"cycle_warmup":0,"exponent":2}"#.into(),
        r#"{"kind":"cosine_restarts","lr":0.1,"min_lr":0.0,"period":3,"period_mult":1.05,"decay":0.99,"cycle_warmup":1,"exponent":1}"#.into(),
        r#"{"kind":"tanh","lr":0.1,"min_lr":0.0001,"total_steps":1000,"lower":-7,"upper":3}"#.into(),
        r#"{"kind":"cyclic","base_lr":0.001,"max_lr":0.1,"step_size_up":50,"step_size_down":70,"mode":"triangular","gamma":1}"#.into(),
        r#"{"kind":"cyclic","base_lr":0.001,"max_lr":0.1,"step_size_up":2,"step_size_down":3,"mode":"triangular2","gamma":1}"#.into(),
        r#"{"kind":"cyclic","base_lr":0.001,"max_lr":0.1,"step_size_up":50,"step_size_down":50,"mode":"exp_range","gamma":0.999}"#.into(),
        r#"{"kind":"one_cycle","max_lr":0.1,"total_steps":1000,"pct_start":0.3,"anneal":"cos","div_factor":25,"final_div_factor":10000,"three_phase":false}"#.into(),
        r#"{"kind":"one_cycle","max_lr":0.1,"total_steps":1000,"pct_start":0.25,"anneal":"linear","div_factor":25,"final_div_factor":10000,"three_phase":true}"#.into(),
        r#"{"kind":"piecewise_constant","boundaries":[100,300],"values":[0.1,0.01,0.001],"side":"left"}"#.into(),
        format!(r#"{{"kind":"piecewise_constant","boundaries":[{}],"values":[{}],"side":"right"}}"#, many.join(","), many_values.join(",")),
        r#"{"kind":"piecewise_interpolate","steps":[0,100,400,900],"values":[0.0,0.1,0.05,0.0],"shape":"cos"}"#.into(),
        r#"{"kind":"piecewise_interpolate","steps":[50],"values":[0.1],"shape":"linear"}"#.into(),
        format!(r#"{{"kind":"piecewise_interpolate","steps":[{}],"values":[{}],"shape":"cos"}}"#, many.join(","), many_values[1..].join(",")),
        r#"{"kind":"inverse_sqrt","lr":0.1,"warmup_steps":100,"timescale":100}"#.into(),
        r#"{"kind":"wsd","lr":0.1,"min_lr":0.001,"warmup_steps":100,"stable_steps":500,"decay_steps":300,"warmup_shape":"cosine","decay_shape":"sqrt"}"#.into(),
        r#"{"kind":"wsd","lr":0.1,"min_lr":0.0,"warmup_steps":0,"stable_steps":50,"decay_steps":400,"warmup_shape":"linear","decay_shape":"cosine"}"#.into(),
    ];
    for shape in ["linear", "cos", "exponential"] {
        specs.push(format!(
            r#"{{"kind":"warmup","schedule":{cosine},"warmup_steps":40,"start_lr":0.001,"shape":"{shape}"}}"#
        ));
    }
    let pieces = specs[1..6].join(",");
    specs.push(format!(r#"{{"kind":"sequence","schedules":[{pieces}],"boundaries":[100,250,600,900]}}"#));
    specs.push(format!(r#"{{"kind":"product","schedules":[{cosine},{}]}}"#, specs[20]));
    specs.iter().map(|s| parse(s)).collect()
}

/// Steps that hit boundaries, knots and cycle starts, mixed in random order.
fn steps() -> Vec<f64> {
    let mut ts: Vec<f64> = (0..3000).map(f64::from).collect();
    ts.extend((0..3000).map(|i| f64::from(i) * 0.37 + 0.001));
    let mut x = 12345u64;
    ts.extend((0..6000).map(|_| {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 11) % 2_000_000) as f64 / 7.0
    }));
    ts.extend([1e9, 3e15, 2f64.powi(53)]);
    ts.reverse();
    ts
}

fn same_bits(a: &[f64], b: &[f64]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x.to_bits() != y.to_bits())
}

#[test]
fn arrays_reproduce_the_scalar_value_bit_for_bit() {
    // Unsorted steps, and sorted ones (trajectory blocks take run-by-run paths).
    let mut sorted = steps();
    sorted.sort_by(f64::total_cmp);
    for ts in [steps(), sorted] {
        check_against_scalar(&ts);
    }
}

fn check_against_scalar(ts: &[f64]) {
    for s in every_family() {
        let mut out = vec![0.0; ts.len()];
        eval_into(&s, ArrayView1::from(ts), &mut out).unwrap_or_else(|e| panic!("{}: {e}", s.repr()));
        let scalar: Vec<f64> = ts.iter().map(|&t| s.value(t)).collect();
        if let Some(i) = same_bits(&out, &scalar) {
            panic!("{} at t={}: array {:e} scalar {:e}", s.repr(), ts[i], out[i], scalar[i]);
        }
    }
}

#[test]
fn every_simd_level_gives_the_same_bits() {
    let ts = steps();
    for s in every_family() {
        let mut reference = vec![0.0; ts.len()];
        eval_at(simd::Isa::Generic, &s, &ts, &mut reference, &mut Scratch::default());
        for isa in simd::available() {
            let mut out = vec![0.0; ts.len()];
            eval_at(isa, &s, &ts, &mut out, &mut Scratch::default());
            if let Some(i) = same_bits(&out, &reference) {
                panic!("{} at {isa:?}, t={}: {:e} vs generic {:e}", s.repr(), ts[i], out[i], reference[i]);
            }
        }
    }
}

#[test]
fn blocks_and_offsets_do_not_change_values() {
    // The same steps evaluated whole, from odd offsets and as a trajectory give the same bits.
    let n = 70_001;
    let ts: Vec<f64> = (0..n).map(|i| f64::from(i as u32 + 17)).collect();
    for s in every_family() {
        let mut whole = vec![0.0; n];
        eval_into(&s, ArrayView1::from(&ts[..]), &mut whole).unwrap_or_else(|e| panic!("{e}"));
        let mut traj = vec![0.0; n];
        trajectory_into(&s, 17, &mut traj).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(same_bits(&whole, &traj), None, "{}", s.repr());
        for offset in [1, 2047, 2049, 40_000] {
            let mut part = vec![0.0; n - offset];
            eval_into(&s, ArrayView1::from(&ts[offset..]), &mut part).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(same_bits(&part, &whole[offset..]), None, "{} from offset {offset}", s.repr());
        }
    }
}

#[test]
fn arguments_past_the_kernel_range_fall_back_to_libm() {
    // A periodic cosine with decay_steps 1 reaches cos arguments past 2^28 after 85 million steps.
    let s = parse(r#"{"kind":"cosine","lr":1,"min_lr":0,"decay_steps":1,"exponent":1,"periodic":true,"begin":0}"#);
    let ts = [1.0, 8.6e7 + 0.5, 1e12 + 0.25, 2.5];
    let mut out = [0.0; 4];
    eval_into(&s, ArrayView1::from(&ts[..]), &mut out).unwrap_or_else(|e| panic!("{e}"));
    for (t, v) in ts.iter().zip(out) {
        assert_eq!(v.to_bits(), s.value(*t).to_bits(), "t={t}");
        assert_eq!(v, (1.0 + (std::f64::consts::PI * t).cos()) / 2.0, "t={t}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_parameters_agree_with_the_scalar_value(
        lr in 1e-5f64..1.0, n in 1.0f64..1e5, e in 0.2f64..4.0, gamma in 0.01f64..1.5, m in 1.0f64..3.0,
        warm in 0.0f64..0.9, seed in any::<u64>(),
    ) {
        let specs = [
            format!(r#"{{"kind":"cosine","lr":{lr:?},"min_lr":0,"decay_steps":{n:?},"exponent":{e:?},"periodic":true,"begin":0}}"#),
            format!(r#"{{"kind":"exponential","lr":{lr:?},"decay_rate":{gamma:?},"decay_steps":{n:?},"staircase":false,"begin":0,"end_lr":null}}"#),
            format!(r#"{{"kind":"polynomial","lr":{lr:?},"end_lr":0,"decay_steps":{n:?},"power":{e:?},"cycle":true,"begin":0}}"#),
            format!(r#"{{"kind":"cosine_restarts","lr":{lr:?},"min_lr":0,"period":{n:?},"period_mult":{m:?},"decay":{gamma:?},"cycle_warmup":{:?},"exponent":{e:?}}}"#, warm * n),
            format!(r#"{{"kind":"tanh","lr":{lr:?},"min_lr":0,"total_steps":{n:?},"lower":{:?},"upper":{e:?}}}"#, -e * 2.0),
        ];
        let mut x = seed;
        let ts: Vec<f64> = (0..3000).map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 11) as f64 / (1u64 << 53) as f64 * 4.0 * n).floor()
        }).collect();
        for spec in specs {
            let Ok(s) = Schedule::from_json(&spec) else { continue };
            let mut out = vec![0.0; ts.len()];
            if eval_into(&s, ArrayView1::from(&ts[..]), &mut out).is_err() {
                continue; // overflow of extreme parameters: the scalar path reports it the same way
            }
            for (t, v) in ts.iter().zip(&out) {
                prop_assert_eq!(v.to_bits(), s.value(*t).to_bits(), "{} at {}", spec, t);
            }
        }
    }
}
