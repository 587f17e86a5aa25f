//! Property tests ("fuzzing") of every reader: random bytes, and valid files truncated, bit-flipped
//! or with garbage inserted, must give a result or a `LogError`, never a panic; truncation of an event
//! file must keep the complete records; and results must not depend on the read chunk size.

use super::testutil::*;
use super::*;
use proptest::prelude::*;

fn forced(format: Format) -> Options {
    Options { format: Some(format), ..Options::default() }
}

fn valid_files() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("events.out.tfevents.f", event_file(6)),
        ("metrics.csv", b"epoch,step,train_loss,val_loss\n0,0,2.5,\n0,1,,2.25\n1,2,2.0,\n1,3,\"1.5\",1.75\n".to_vec()),
        ("log.tsv", b"step\tloss\n1\t0.5\n2\t0.25\n".to_vec()),
        ("run.jsonl", b"{\"step\": 1, \"loss\": 2.5, \"opt\": {\"lr\": 0.1}}\n{\"step\": 2, \"loss\": NaN}\n".to_vec()),
        ("trainer_state.json", b"{\"log_history\": [{\"loss\": 1.5, \"step\": 1}, {\"eval_loss\": 2, \"step\": 2}]}".to_vec()),
        ("train.log", b"step 1 loss 2.5 lr 0.1\n[2] loss: 2.25\nstep=3 loss=nan\n".to_vec()),
        ("export.csv", b"step,note,loss\n1,\"warm, up\nand \"\"more\"\"\",2.5\r\n2,\"\",2.25\n3,plain,2\n".to_vec()),
    ]
}

/// Apply one mutation to `file`: cut it, flip a bit, or insert garbage.
fn mutate(file: &[u8], kind: u8, at: usize, garbage: &[u8]) -> Vec<u8> {
    let at = if file.is_empty() { 0 } else { at % file.len() };
    match kind % 3 {
        0 => file[..at].to_vec(),
        1 => {
            let mut out = file.to_vec();
            if let Some(b) = out.get_mut(at) {
                *b ^= 1 << (garbage.first().copied().unwrap_or(0) % 8);
            }
            out
        }
        _ => [&file[..at], garbage, &file[at..]].concat(),
    }
}

/// Where each record of a well-formed TFRecord file ends (read from the framing alone).
fn record_ends(file: &[u8]) -> Vec<usize> {
    let mut ends = Vec::new();
    let mut pos = 0;
    while pos + 8 <= file.len() {
        let len = u64::from_le_bytes(file[pos..pos + 8].try_into().unwrap()) as usize;
        pos += 16 + len;
        ends.push(pos);
    }
    ends
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), which in 0usize..7) {
        let options = match Format::ALL.get(which) {
            Some(&f) => forced(f),
            None => Options::default(),
        };
        let _ = read_as("random.bin", &bytes, &options);
        let _ = read_as("random.bin", &bytes, &Options { lenient: true, ..options });
    }

    #[test]
    fn mutated_valid_files_never_panic(
        which in 0usize..7,
        kind in any::<u8>(),
        at in any::<usize>(),
        garbage in proptest::collection::vec(any::<u8>(), 1..24),
        lenient in any::<bool>(),
        chunk in prop_oneof![Just(None), (1usize..64).prop_map(Some)],
    ) {
        let (name, file) = &valid_files()[which];
        let mutated = mutate(file, kind, at, &garbage);
        let options = Options { lenient, chunk_bytes: chunk, ..Options::default() };
        if let Err(e) = read_as(name, &mutated, &options) {
            prop_assert!(!e.to_string().contains('\n'), "multi-line message: {e}");
        }
    }

    #[test]
    fn truncated_event_files_keep_their_complete_records(cut in 1usize..2000, chunk in 1usize..300) {
        let file = event_file(20);
        let cut = cut.min(file.len());
        let full = read_as("events.out.tfevents.x", &file, &Options::default()).unwrap();
        let log = read_as("events.out.tfevents.x", &file[..cut], &Options { chunk_bytes: Some(chunk), ..Options::default() }).unwrap();
        let (steps, values) = series(&log, "loss");
        let (all_steps, all_values) = series(&full, "loss");
        prop_assert_eq!(steps, &all_steps[..steps.len()]);
        prop_assert_eq!(values, &all_values[..values.len()]);
        prop_assert_eq!(log.truncated, !record_ends(&file).contains(&cut));
    }

    #[test]
    fn lenient_event_reading_survives_any_bit_flip(at in any::<usize>(), bit in 0u8..8) {
        let mut file = event_file(10);
        let i = at % file.len();
        file[i] ^= 1 << bit;
        let log = read_as("events.out.tfevents.b", &file, &Options { lenient: true, ..Options::default() });
        let log = log.unwrap();
        // One flipped bit damages at most one record (or the version record, which holds no scalar).
        prop_assert!(series(&log, "loss").0.len() >= 9);
    }

    #[test]
    fn chunk_size_does_not_change_the_result(which in 0usize..7, chunk in 1usize..200) {
        let (name, file) = &valid_files()[which];
        let whole = read_as(name, file, &Options::default()).unwrap();
        let chunked = read_as(name, file, &Options { chunk_bytes: Some(chunk), ..Options::default() }).unwrap();
        // Compare bit patterns: the files hold NaN, which is not equal to itself.
        let bits = |log: &ScalarLog| -> Vec<(String, Vec<i64>, Vec<u64>)> {
            log.series.iter().map(|s| (s.tag.clone(), s.steps.clone(), s.values.iter().map(|v| v.to_bits()).collect())).collect()
        };
        prop_assert_eq!(bits(&whole), bits(&chunked));
    }
}

/// A CSV cell as written, and the value a reader must find in it (`None`: no point).
#[derive(Debug, Clone)]
enum CellText {
    Number(f64, u8),
    Missing(&'static str),
    Garbage(&'static str),
}

impl CellText {
    fn text(&self) -> String {
        match *self {
            CellText::Number(v, 0) => format!("{v}"),
            CellText::Number(v, 1) => format!("{v:e}"),
            CellText::Number(v, _) => format!("{v:E}"),
            CellText::Missing(s) | CellText::Garbage(s) => s.to_owned(),
        }
    }
}

fn cell_text() -> impl Strategy<Value = CellText> {
    prop_oneof![
        6 => (any::<f64>(), 0u8..3).prop_map(|(v, f)| CellText::Number(v, f)),
        2 => (-1e6f64..1e6, 0u8..3).prop_map(|(v, f)| CellText::Number(v.round(), f)),
        2 => prop::sample::select(vec!["", "NA", "null", "None"]).prop_map(CellText::Missing),
        1 => prop::sample::select(vec!["1x", "abc", "1e", "--1"]).prop_map(CellText::Garbage),
    ]
}

/// A table of `step` plus value columns, written plain (`quoted` false) or with every cell quoted, with
/// optional spaces around cells and `\r\n` line ends.
fn write_table(rows: &[(u32, Vec<CellText>, bool)], columns: usize, quoted: bool, crlf: bool) -> Vec<u8> {
    let end = if crlf { "\r\n" } else { "\n" };
    let q = |s: &str| if quoted { format!("\"{s}\"") } else { s.to_owned() };
    let mut out: Vec<String> = vec![std::iter::once("step".to_owned()).chain((0..columns).map(|c| format!("v{c}"))).collect::<Vec<_>>().join(",")];
    for (step, cells, spaced) in rows {
        let pad = |s: String| if *spaced { format!(" {s} ") } else { s };
        let row: Vec<String> = std::iter::once(pad(q(&step.to_string()))).chain(cells.iter().map(|c| pad(q(&c.text())))).collect();
        out.push(row.join(","));
    }
    (out.join(end) + end).into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    /// The one-pass reader of plain rows agrees with the careful splitter (every cell quoted forces it)
    /// on values, steps, errors and their line numbers, and both find exactly the numbers written.
    #[test]
    fn plain_and_quoted_csv_read_the_same(
        columns in 1usize..4,
        rows in proptest::collection::vec((0u32..1_000_000, proptest::collection::vec(cell_text(), 3), any::<bool>()), 0..30),
        crlf in any::<bool>(),
        lenient in any::<bool>(),
        chunk in prop_oneof![Just(None), (1usize..200).prop_map(Some)],
    ) {
        let mut rows: Vec<_> = rows.into_iter().map(|(s, mut c, p)| { c.truncate(columns); (s, c, p) }).collect();
        // A column holding text but no number is a text column, left out: give each column a number.
        for c in 0..columns {
            if !rows.iter().any(|(_, cells, _)| matches!(cells[c], CellText::Number(..))) {
                if let Some((_, first, _)) = rows.first_mut() {
                    first[c] = CellText::Number(1.0, 0);
                }
            }
        }
        let options = Options { lenient, chunk_bytes: chunk, ..Options::default() };
        let plain = read_as("t.csv", &write_table(&rows, columns, false, crlf), &options);
        let quoted = read_as("t.csv", &write_table(&rows, columns, true, crlf), &options);
        let shape = |r: &LogResult<ScalarLog>| match r {
            Ok(log) => Ok((log.skipped, log.series.iter().map(|s| (s.tag.clone(), s.steps.clone(), s.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>())).collect::<Vec<_>>())),
            Err(e) => Err(e.to_string().split_once(": ").map(|(_path, what)| what.to_owned())),
        };
        prop_assert_eq!(shape(&plain), shape(&quoted));
        let bad = rows.iter().position(|(_, cells, _)| cells.iter().any(|c| matches!(c, CellText::Garbage(_))));
        match (plain, bad, lenient) {
            (Err(LogError::Line { line, .. }), Some(i), false) => prop_assert_eq!(line, i as u64 + 2),
            (Ok(log), bad, lenient) if bad.is_none() || lenient => {
                for c in 0..columns {
                    let good = rows.iter().filter(|(_, cells, _)| !cells.iter().any(|c| matches!(c, CellText::Garbage(_))));
                    let want: Vec<(i64, u64)> = good
                        .filter_map(|(step, cells, _)| match cells[c] { CellText::Number(v, _) => Some((i64::from(*step), v.to_bits())), _ => None })
                        .collect();
                    let (steps, values) = series(&log, &format!("v{c}"));
                    let got: Vec<(i64, u64)> = steps.iter().zip(values).map(|(&s, v)| (s, v.to_bits())).collect();
                    prop_assert_eq!(got, want);
                }
            }
            (other, bad, lenient) => prop_assert!(false, "{other:?} for bad row {bad:?}, lenient {lenient}"),
        }
    }
}
