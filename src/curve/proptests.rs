//! Property tests: for random logs (NaN/Inf included, irregular steps at large offsets) and random
//! chunkings and merge groupings, the monitor's state is bit-identical, so every statistic and the
//! verdict are too.

use super::ingest::{Input, Lr};
use super::Monitor;
use ndarray::ArrayView1;
use proptest::prelude::*;

fn read(values: &[f64], steps: &[u64]) -> Monitor {
    let mut m = Monitor::new();
    let none: Option<Input<'_, f64, u64>> = None;
    let input = Input {
        values: ArrayView1::from(values),
        steps: Some(ArrayView1::from(steps)),
        lr: Lr::None,
        implicit_start: 0,
        what: "loss",
        steps_what: "steps",
        offset: 0,
    };
    m.update(input, none).expect("valid input");
    m
}

fn log() -> impl Strategy<Value = (Vec<f64>, Vec<u64>)> {
    (1usize..3000, any::<u64>()).prop_map(|(n, seed)| {
        let mut rng = super::tests::Rng::new(seed);
        let base = (seed % 3) * (1u64 << 41);
        let mut t = base;
        let mut values = Vec::with_capacity(n);
        let mut steps = Vec::with_capacity(n);
        for i in 0..n {
            let r = rng.uniform();
            let v = if r < 0.01 {
                f64::NAN
            } else if r < 0.015 {
                f64::INFINITY
            } else {
                (1.5 - i as f64 / n as f64 + 0.3 * rng.normal()).exp() * if r > 0.995 { 1e5 } else { 1.0 }
            };
            values.push(v);
            t += 1 + (rng.uniform() * rng.uniform() * 300.0) as u64;
            steps.push(t);
        }
        (values, steps)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn chunking_and_merging_never_change_the_state((values, steps) in log(), cuts in prop::collection::vec(any::<u16>(), 0..10), order in any::<u64>()) {
        let n = values.len();
        let whole = read(&values, &steps);
        let mut bounds: Vec<usize> = cuts.iter().map(|&c| c as usize % n).filter(|&c| c > 0).collect();
        bounds.push(0);
        bounds.push(n);
        bounds.sort_unstable();
        bounds.dedup();
        // Streaming: one monitor, updated chunk by chunk.
        let mut streamed = Monitor::new();
        let mut pieces = Vec::new();
        for w in bounds.windows(2) {
            let piece = read(&values[w[0]..w[1]], &steps[w[0]..w[1]]);
            streamed.merge(&piece).expect("adjacent");
            pieces.push(piece);
        }
        prop_assert_eq!(&streamed, &whole);
        // Merging: adjacent pairs joined in an order drawn from `order`.
        let mut state = order;
        while pieces.len() > 1 {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let i = (state >> 33) as usize % (pieces.len() - 1);
            let next = pieces.remove(i + 1);
            pieces[i].merge(&next).expect("adjacent");
        }
        prop_assert_eq!(&pieces[0], &whole);
        prop_assert_eq!(pieces[0].diagnose(), whole.diagnose());
    }
}
