use super::*;
use ndarray::ArrayView1;

fn parse(json: &str) -> Schedule {
    match Schedule::from_json(json) {
        Ok(s) => s,
        Err(e) => panic!("{json}: {e}"),
    }
}

#[test]
fn step_decay_halves_every_n() {
    let s = parse(r#"{"kind":"step_decay","lr":0.1,"step_size":30,"gamma":0.5}"#);
    assert_eq!(s.value(0.0), 0.1);
    assert_eq!(s.value(29.0), 0.1);
    assert_eq!(s.value(30.0), 0.05);
    assert_eq!(s.value(65.0), 0.025);
}

#[test]
fn inverse_time_is_lr0_over_one_plus_kt() {
    let s = parse(r#"{"kind":"inverse_time","lr":0.1,"decay_rate":0.5,"decay_steps":1,"staircase":false}"#);
    for t in [0.0, 1.0, 7.0, 1000.0] {
        assert_eq!(s.value(t), 0.1 / (1.0 + 0.5 * t));
    }
}

#[test]
fn rejects_bad_parameters_naming_them() {
    let e = Schedule::from_json(r#"{"kind":"step_decay","lr":0.1,"step_size":0,"gamma":0.5}"#).unwrap_err();
    assert_eq!(e.to_string(), "step_size must be > 0, got step_size=0");
    let e = Schedule::from_json(r#"{"kind":"multi_step","lr":0.1,"milestones":[5,5],"gamma":0.5}"#).unwrap_err();
    assert!(e.to_string().contains("milestones must be strictly increasing"), "{e}");
    let e = Schedule::from_json(r#"{"kind":"constant","lr":-1}"#).unwrap_err();
    assert_eq!(e.to_string(), "lr must be >= 0, got lr=-1");
    let e = Schedule::from_json(r#"{"kind":"constant"}"#).unwrap_err();
    assert!(e.to_string().contains("missing field `lr`"), "{e}");
    let e = Schedule::from_json(r#"{"kind":"nope","lr":1}"#).unwrap_err();
    assert!(e.to_string().contains("unknown variant `nope`"), "{e}");
}

#[test]
fn warmup_must_warm_up() {
    let e = Schedule::from_json(
        r#"{"kind":"warmup","schedule":{"kind":"constant","lr":0.01},"warmup_steps":10,"start_lr":0.1,"shape":"linear"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("start_lr must be <= the wrapped schedule's first LR (0.01)"), "{e}");
}

#[test]
fn sequence_pieces_see_local_steps() {
    let s = parse(
        r#"{"kind":"sequence","boundaries":[10],"schedules":[
            {"kind":"constant","lr":1.0},
            {"kind":"step_decay","lr":0.5,"step_size":5,"gamma":0.1}]}"#,
    );
    assert_eq!(s.value(9.0), 1.0);
    assert_eq!(s.value(10.0), 0.5);
    assert_eq!(s.value(15.0), 0.5 * 0.1);
}

#[test]
fn json_round_trip_and_repr() {
    let s = parse(
        r#"{"kind":"warmup","schedule":{"kind":"cosine","lr":0.1,"min_lr":0.0,"decay_steps":100,"exponent":1,"periodic":false,"begin":0},"warmup_steps":10,"start_lr":0.0,"shape":"linear"}"#,
    );
    assert_eq!(Schedule::from_json(&s.to_json()).unwrap(), s);
    assert_eq!(
        s.repr(),
        "warmup(schedule=cosine(lr=0.1, min_lr=0.0, decay_steps=100.0, exponent=1.0, periodic=False, begin=0.0), warmup_steps=10.0, start_lr=0.0, shape=\"linear\")"
    );
}

#[test]
fn array_eval_checks_steps_and_matches_scalar() {
    let s = parse(r#"{"kind":"cosine","lr":0.1,"min_lr":0.001,"decay_steps":1000,"exponent":1,"periodic":false,"begin":0}"#);
    let steps: Vec<i64> = (0..100_000).map(|i| (i * 7) % 1500).collect();
    let mut out = vec![0.0; steps.len()];
    eval_into(&s, ArrayView1::from(&steps[..]), &mut out).unwrap();
    for (t, v) in steps.iter().zip(&out) {
        assert_eq!(*v, s.value(*t as f64));
    }
    let mut bad: Vec<f64> = (0..70_000).map(|i| i as f64).collect();
    bad[40_000] = f64::NAN;
    bad[60_000] = -1.0;
    let mut out = vec![0.0; bad.len()];
    let e = eval_into(&s, ArrayView1::from(&bad[..]), &mut out).unwrap_err();
    assert_eq!(e.to_string(), "steps[40000] must be finite and >= 0, got steps[40000]=NaN");
}

#[test]
fn strided_input_is_read_in_place() {
    let s = parse(r#"{"kind":"exponential","lr":1.0,"decay_rate":0.5,"decay_steps":10,"staircase":true,"begin":0,"end_lr":null}"#);
    let data: Vec<f32> = (0..200).map(|i| i as f32).collect();
    let view = ArrayView1::from(&data[..]);
    let every_third = view.slice(ndarray::s![..;3]);
    let mut out = vec![0.0; every_third.len()];
    eval_into(&s, every_third, &mut out).unwrap();
    for (i, v) in out.iter().enumerate() {
        assert_eq!(*v, s.value((3 * i) as f64));
    }
}

#[test]
fn trajectory_equals_pointwise() {
    let s = parse(r#"{"kind":"one_cycle","max_lr":0.1,"total_steps":100000,"pct_start":0.3,"anneal":"cos","div_factor":25,"final_div_factor":10000,"three_phase":false}"#);
    let mut out = vec![0.0; 100_000];
    trajectory_into(&s, 5, &mut out).unwrap();
    for (i, v) in out.iter().enumerate() {
        assert_eq!(*v, s.value((i + 5) as f64));
    }
}

#[test]
fn json_keeps_every_bit_of_a_float() {
    // serde_json's default float parser can be off by one ulp; the spec must round-trip exactly.
    let s = parse(r#"{"kind":"constant","lr":0.41349065285026315}"#);
    assert_eq!(s.value(0.0), 0.41349065285026315);
}

#[test]
fn cosine_with_negative_begin_is_already_under_way() {
    let ahead = parse(r#"{"kind":"cosine","lr":1.0,"min_lr":0.1,"decay_steps":10,"exponent":1,"periodic":false,"begin":-1}"#);
    let plain = parse(r#"{"kind":"cosine","lr":1.0,"min_lr":0.1,"decay_steps":10,"exponent":1,"periodic":false,"begin":0}"#);
    for t in [0.0, 0.5, 3.0, 8.0, 9.0, 10.0, 50.0] {
        assert_eq!(ahead.value(t), plain.value(t + 1.0), "t={t}");
    }
}

#[test]
fn piecewise_interpolate_accepts_knots_before_step_zero() {
    // torch OneCycleLR(total_steps=100, pct_start=0.0): the anneal runs from step -1 to step 99.
    let s = parse(r#"{"kind":"piecewise_interpolate","steps":[-1,99],"values":[1.0,0.5],"shape":"linear"}"#);
    assert_eq!(s.value(0.0), (0.5 - 1.0) * 0.01 + 1.0);
    assert_eq!(s.value(99.0), 0.5);
    assert_eq!(s.value(1000.0), 0.5);
    let unsorted = r#"{"kind":"piecewise_interpolate","steps":[-1,-2],"values":[1.0,0.5],"shape":"cos"}"#;
    let e = Schedule::from_json(unsorted).unwrap_err();
    assert!(e.to_string().starts_with("steps must be strictly increasing"), "{e}");
    let nan = r#"{"kind":"piecewise_interpolate","steps":[-1e400,0],"values":[1.0,0.5],"shape":"cos"}"#;
    assert!(Schedule::from_json(nan).is_err());
}

#[test]
fn restarts_survive_rounding_at_cycle_boundaries() {
    // 25779 / (51558 / 38) floors to 18, but 18 * period rounds a hair above 25779.
    let period = 51558.0 / 38.0;
    let s = parse(&format!(
        r#"{{"kind":"cosine_restarts","lr":1.0,"min_lr":0.0,"period":{period:?},"period_mult":1,"decay":1,"cycle_warmup":0,"exponent":1}}"#
    ));
    let v = finite_value(&s, 25779.0).unwrap();
    assert!((v - 1.0).abs() < 1e-9, "{v}");
}

#[test]
fn step_decay_with_a_tiny_step_size_decays_to_zero_not_below() {
    // gamma^(t / 1e-24) with gamma near the float64 minimum: found by the spec proptest, gave -1e23.
    let s = Schedule::from_json(r#"{"kind":"step_decay","lr":2.2e291,"step_size":1.03e-24,"gamma":1.8e-308}"#).unwrap();
    let steps: Vec<f64> = (0..20_000).map(|i| (i * 7919 % 2_000_003) as f64).collect();
    let mut out = vec![f64::NAN; steps.len()];
    eval_into(&s, ArrayView1::from(&steps[..]), &mut out).unwrap();
    for (t, v) in steps.iter().zip(&out) {
        let want = if *t == 0.0 { 2.2e291 } else { 0.0 };
        assert_eq!((*v, s.value(*t)), (want, want), "step {t}");
    }
}
