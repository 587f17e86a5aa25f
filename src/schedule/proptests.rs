//! Property tests on the core: no input panics the spec parser, and every valid schedule gives finite,
//! non-negative values that do not depend on how an array is split across threads.

use super::*;
use ndarray::ArrayView1;
use proptest::prelude::*;

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        (-1e6f64..1e6).prop_map(serde_json::Value::from),
        prop::sample::select(vec![
            "constant", "step_decay", "cosine", "warmup", "linear", "cos", "right", "left", "triangular2",
        ])
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "kind", "lr", "min_lr", "decay_steps", "step_size", "gamma", "milestones", "schedule",
                        "schedules", "boundaries", "values", "steps", "side", "shape", "warmup_steps", "start_lr",
                        "exponent", "periodic", "begin",
                    ]),
                    inner
                ),
                0..8
            )
            .prop_map(|kv| serde_json::Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// A few families with their parameters drawn freely, valid or not.
fn spec() -> impl Strategy<Value = String> {
    prop_oneof![
        (any::<f64>(), any::<f64>(), any::<f64>())
            .prop_map(|(a, b, c)| format!(r#"{{"kind":"step_decay","lr":{a:?},"step_size":{b:?},"gamma":{c:?}}}"#)),
        (0.0f64..1.0, 1.0f64..1e4, 0.0f64..1e-3, 0.1f64..4.0, any::<bool>()).prop_map(|(a, n, m, e, p)| format!(
            r#"{{"kind":"cosine","lr":{a:?},"min_lr":{m:?},"decay_steps":{n:?},"exponent":{e:?},"periodic":{p},"begin":0}}"#
        )),
        (0.0f64..1.0, 1.0f64..1e3, 1.0f64..3.0, 0.1f64..1.0).prop_map(|(a, p, m, d)| format!(
            r#"{{"kind":"cosine_restarts","lr":{a:?},"min_lr":0,"period":{p:?},"period_mult":{m:?},"decay":{d:?},"cycle_warmup":0,"exponent":1}}"#
        )),
        (1e-4f64..1.0, 10.0f64..1e5, 0.05f64..0.45, any::<bool>()).prop_map(|(a, n, p, three)| format!(
            r#"{{"kind":"one_cycle","max_lr":{a:?},"total_steps":{n:?},"pct_start":{p:?},"anneal":"cos","div_factor":25,"final_div_factor":10000,"three_phase":{three}}}"#
        )),
        (1e-4f64..1.0, 1.0f64..1e3, 1.0f64..1e3).prop_map(|(a, u, d)| format!(
            r#"{{"kind":"cyclic","base_lr":0.0,"max_lr":{a:?},"step_size_up":{u:?},"step_size_down":{d:?},"mode":"triangular2","gamma":1}}"#
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        let text = v.to_string();
        if let Ok(s) = Schedule::from_json(&text) {
            for t in [0.0, 1.0, 17.5, 1e6] {
                if let Ok(x) = finite_value(&s, t) {
                    prop_assert!(x >= 0.0, "{text} at {t} gave {x}");
                }
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = Schedule::from_json(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn valid_specs_give_finite_values_independent_of_splitting(text in spec(), start in 0u64..1_000_000) {
        let Ok(s) = Schedule::from_json(&text) else { return Ok(()) };
        let steps: Vec<f64> = (0..70_000u64).map(|i| ((start + i * 7919) % 2_000_003) as f64).collect();
        let mut whole = vec![0.0; steps.len()];
        if let Err(e) = eval_into(&s, ArrayView1::from(&steps[..]), &mut whole) {
            // Only overflow of extreme parameters may refuse; it must say so, never return inf.
            prop_assert!(matches!(e, crate::Error::NonFiniteValue { .. }), "{e}");
            return Ok(());
        }
        for (t, v) in steps.iter().zip(&whole).step_by(997) {
            prop_assert!(v.is_finite() && *v >= 0.0);
            prop_assert_eq!(*v, s.value(*t));
        }
        let mut traj = vec![0.0; 50_000];
        trajectory_into(&s, start, &mut traj).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (i, v) in traj.iter().enumerate().step_by(101) {
            prop_assert_eq!(*v, s.value((start + i as u64) as f64));
        }
    }
}
