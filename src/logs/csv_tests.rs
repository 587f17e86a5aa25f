//! CSV reader and line-driver tests: text columns, repeated header names, line endings, 19-digit
//! steps, row-index steps and a last line cut short. Expected values are written down from how each
//! file was built, and every file is also read in small chunks (the result must not depend on them).

use super::testutil::*;
use super::*;

fn opts() -> Options {
    Options::default()
}

fn lenient() -> Options {
    Options { lenient: true, ..opts() }
}

/// Read `content` with the default chunk and with small ones; every read must agree on the result.
fn read_chunked(name: &str, content: &str, options: &Options) -> LogResult<ScalarLog> {
    let whole = read_as(name, content.as_bytes(), options);
    for chunk in [1, 2, 7, 64] {
        let chunked = read_as(name, content.as_bytes(), &Options { chunk_bytes: Some(chunk), ..options.clone() });
        let same = match (&whole, &chunked) {
            (Ok(a), Ok(b)) => (&a.series, &a.tags, a.skipped, a.truncated) == (&b.series, &b.tags, b.skipped, b.truncated),
            // Each read has its own temporary path: compare what follows it.
            (a, b) => {
                let what = |r: &LogResult<ScalarLog>| r.as_ref().err().map(|e| e.to_string().split_once(": ").map(|(_, w)| w.to_owned()));
                what(a) == what(b)
            }
        };
        assert!(same, "chunk {chunk} of {content:?}: {chunked:?} vs {whole:?}");
    }
    whole
}

fn line_error(result: LogResult<ScalarLog>) -> (u64, String) {
    match result {
        Err(LogError::Line { line, what, .. }) => (line, what),
        other => panic!("expected a line error, got {other:?}"),
    }
}

#[test]
fn a_column_is_text_only_when_its_scanned_cells_hold_no_number() {
    // The first row's empty phase decided nothing: the column is text, not a failing number column.
    let log = read_chunked("p.csv", "step,loss,phase\n0,1.5,\n1,1.4,train\n", &opts()).unwrap();
    assert_eq!(log.tags, vec!["loss"]);
    assert_eq!(series(&log, "loss"), (&[0, 1][..], &[1.5, 1.4][..]));
    // Text first, numbers after: a numeric column with a bad cell, not a column silently dropped.
    let csv = "step,loss\n0,abc\n1,1.4\n2,1.3\n";
    let (line, what) = line_error(read_chunked("t.csv", csv, &opts()));
    assert!(line == 2 && what.contains("\"abc\""), "{line}: {what}");
    let log = read_chunked("t.csv", csv, &lenient()).unwrap();
    assert_eq!(series(&log, "loss"), (&[1, 2][..], &[1.4, 1.3][..]));
    assert_eq!(log.skipped, 1);
    // A malformed first row tells nothing about the columns; the rows after it do.
    let csv = "step,loss,note\n0,1.5,\"abc\"d\n1,1.4,x\n2,1.3,y\n3,1.2,z\n";
    let log = read_chunked("m.csv", csv, &lenient()).unwrap();
    assert_eq!(log.tags, vec!["loss"]);
    assert_eq!(series(&log, "loss"), (&[1, 2, 3][..], &[1.4, 1.3, 1.2][..]));
    assert_eq!(log.skipped, 1);
    assert_eq!(line_error(read_chunked("m.csv", csv, &opts())).0, 2);
    // A column empty in every row stays numeric.
    let log = read_chunked("e.csv", "step,loss,val\n0,1.5,\n1,1.4,NA\n", &opts()).unwrap();
    assert_eq!(log.tags, vec!["loss", "val"]);
    assert_eq!(series(&log, "val").0.len(), 0);
}

#[test]
fn text_columns_are_decided_by_the_first_megabyte_whatever_the_chunk_size() {
    let mut csv = String::from("step,loss,note\n");
    let mut rows = 0;
    while csv.len() <= csv::SCAN {
        csv.push_str(&format!("{rows},1.5,\n"));
        rows += 1;
    }
    // Text past the scanned rows lands in a numeric column: an error, as a bad number would be.
    let late = format!("{csv}{rows},1.5,late\n");
    for chunk in [None, Some(4096), Some(csv::SCAN + 7)] {
        let options = Options { chunk_bytes: chunk, ..opts() };
        let (line, what) = line_error(read_as("late.csv", late.as_bytes(), &options));
        assert!(line == rows + 2 && what.contains("\"late\""), "chunk {chunk:?}: {line}: {what}");
    }
    // Text within them makes a text column, left out.
    let early = format!("step,loss,note\n0,1.5,\n1,1.5,\n2,1.5,early\n{}", &csv[15..]);
    for chunk in [None, Some(4096)] {
        let log = read_as("early.csv", early.as_bytes(), &Options { chunk_bytes: chunk, ..opts() }).unwrap();
        assert_eq!((log.tags.clone(), series(&log, "loss").0.len()), (vec!["loss".to_owned()], rows as usize + 3));
    }
}

#[test]
fn repeated_header_names_become_separate_series_named_as_pandas_names_them() {
    let log = read_chunked("d.csv", "step,loss,loss\n0,1.5,9.0\n1,1.4,8.0\n", &opts()).unwrap();
    assert_eq!(log.tags, vec!["loss", "loss.1"]);
    assert_eq!(series(&log, "loss"), (&[0, 1][..], &[1.5, 1.4][..]));
    assert_eq!(series(&log, "loss.1"), (&[0, 1][..], &[9.0, 8.0][..]));
    // A name another column already has is passed over (pandas 3: a, a.2, a.1, a.3).
    let log = read_chunked("d.csv", "a,a,a.1,a\n1,2,3,4\n", &opts()).unwrap();
    assert_eq!(log.tags, vec!["a", "a.2", "a.1", "a.3"]);
    assert_eq!(series(&log, "a.2"), (&[0][..], &[2.0][..]));
    let log = read_chunked("d.csv", "a.1,a,a.1,a,a\n1,2,3,4,5\n", &opts()).unwrap();
    assert_eq!(log.tags, vec!["a.1", "a", "a.1.1", "a.2", "a.3"]);
    // The first `step` is the step column; the second is a tag.
    let log = read_chunked("d.csv", "step,step,loss\n7,5,1.0\n", &opts()).unwrap();
    assert_eq!(log.tags, vec!["step.1", "loss"]);
    assert_eq!(series(&log, "step.1"), (&[7][..], &[5.0][..]));
}

#[test]
fn classic_mac_line_endings_are_a_format_error_and_crlf_reads() {
    match read_chunked("mac.csv", "step,loss\r0,1.5\r1,1.4\r", &opts()) {
        Err(e @ LogError::Format { .. }) => {
            let message = e.to_string();
            assert!(message.contains("mac.csv") && message.contains("carriage return"), "{message}");
            assert!(message.contains("line endings") && !message.contains('\n'), "{message}");
        }
        other => panic!("expected a format error, got {other:?}"),
    }
    let log = read_chunked("win.csv", "step,loss\r\n0,1.5\r\n1,1.4\r\n", &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[0, 1][..], &[1.5, 1.4][..]));
}

#[test]
fn nineteen_digit_steps_are_exact_on_both_paths() {
    let steps = [1_000_000_000_000_000_001, 1_000_000_000_000_000_002, i64::MAX, i64::MIN, -5];
    let plain = "step,loss\n1000000000000000001,1\n1000000000000000002,2\n9223372036854775807,3\n-9223372036854775808,4\n-5,5\n";
    let quoted = plain.replace(",1\n", ",\"1\"\n"); // a quote sends the text down the careful path
    for csv in [plain.to_owned(), quoted] {
        let log = read_chunked("big.csv", &csv, &opts()).unwrap();
        assert_eq!(series(&log, "loss"), (&steps[..], &[1.0, 2.0, 3.0, 4.0, 5.0][..]));
    }
    let (line, what) = line_error(read_chunked("o.csv", "step,loss\n1,1\n9223372036854775808,2\n", &opts()));
    assert!(line == 3 && what.contains("not an integer"), "{line}: {what}");
}

#[test]
fn row_index_steps_count_rows_not_lines() {
    for csv in ["loss\n1.0\n\n2.0\n3.0\n", "loss,note\n1.0,\"a\nb\"\n2.0,x\n3.0,y\n", "loss,note\n\n1.0,\"a\n\nb\"\n  \n2.0,x\n3.0,y"] {
        let log = read_chunked("r.csv", csv, &opts()).unwrap();
        assert_eq!(series(&log, "loss"), (&[0, 1, 2][..], &[1.0, 2.0, 3.0][..]), "{csv:?}");
    }
    // Errors still name the physical line.
    let (line, _) = line_error(read_chunked("r.csv", "loss,note\n1.0,\"a\nb\"\n\n2.0,x\nbad,y\n", &opts()));
    assert_eq!(line, 6);
    // A line of tabs in a TSV is a row of empty cells (as pandas reads it), not a blank line.
    let log = read_chunked("r.tsv", "loss\tnote\n1.0\ta\n\t\n2.0\tb\n", &opts()).unwrap();
    assert_eq!(series(&log, "loss").0, &[0, 2]);
}

#[test]
fn row_index_steps_agree_across_parallel_pieces_and_chunks() {
    let n = 300_000;
    let mut csv = String::from("loss,lr\n");
    for i in 0..n {
        csv.push_str(&format!("{}.5,{}\n", i, if i % 3 == 0 { "0.1" } else { "" }));
        if i % 7 == 0 {
            csv.push_str(if i % 2 == 0 { "\n" } else { "  \r\n" });
        }
    }
    for chunk in [None, Some(100_000), Some(1 << 20)] {
        let log = read_as("p.csv", csv.as_bytes(), &Options { chunk_bytes: chunk, ..opts() }).unwrap();
        let (steps, values) = series(&log, "loss");
        assert!(steps.iter().copied().eq(0..n), "chunk {chunk:?}");
        assert!(values.iter().zip(0..n).all(|(&v, i)| v == i as f64 + 0.5), "chunk {chunk:?}");
        assert!(series(&log, "lr").0.iter().copied().eq((0..n).step_by(3)), "chunk {chunk:?}");
    }
}

#[test]
fn a_last_line_cut_short_is_truncation_not_an_error() {
    // A complete last line without a line break is read.
    let log = read_chunked("c.csv", "step,loss\n0,2.5\n1,2.25\n2,2.1", &opts()).unwrap();
    assert_eq!((series(&log, "loss"), log.truncated), ((&[0, 1, 2][..], &[2.5, 2.25, 2.1][..]), false));
    let cut = [
        ("c.csv", "step,loss,lr\n0,2.5,0.1\n1,2.25", "loss", vec![0]),
        ("c.csv", "step,note,loss\n0,\"a\",2.5\n1,\"b\nc", "loss", vec![0]),
        ("c.jsonl", "{\"step\": 1, \"loss\": 2.5}\n{\"step\": 2, \"loss\": 2.", "loss", vec![1]),
        ("c.csv", "step,loss,lr\n0,2.5", "loss", vec![]),
    ];
    for (name, content, tag, steps) in cut {
        for options in [opts(), lenient()] {
            let log = read_chunked(name, content, &options).unwrap();
            assert_eq!(series(&log, tag).0, &steps[..], "{content:?}");
            assert!(log.truncated && log.skipped == 0, "{content:?}: {log:?}");
        }
    }
    assert_eq!(read_chunked("c.csv", "step,loss,lr\n0,2.5", &opts()).unwrap().tags, vec!["loss", "lr"]);
    // A bad line before the last is still an error, or skipped.
    assert_eq!(line_error(read_chunked("c.csv", "step,loss\n0,x\n1,2", &opts())).0, 2);
    let log = read_chunked("c.jsonl", "{\"step\": 1, \"loss\": }\n{\"step\": 2, \"loss\": 2}", &lenient()).unwrap();
    assert_eq!((series(&log, "loss").0, log.skipped, log.truncated), (&[2][..], 1, false));
}

mod chunks {
    use super::*;
    use proptest::prelude::*;

    /// A row of a step-less CSV: a loss, a note (plain, quoted across lines, or empty) and whether a
    /// blank line follows.
    fn rows() -> impl Strategy<Value = Vec<(u16, u8, bool)>> {
        proptest::collection::vec((any::<u16>(), 0u8..3, any::<bool>()), 0..20)
    }

    fn table(rows: &[(u16, u8, bool)]) -> String {
        let mut csv = String::from("loss,note\n");
        for &(loss, note, blank) in rows {
            let note = ["x", "\"a\nb, \"\"c\"\"\"", ""][usize::from(note)];
            csv.push_str(&format!("{loss},{note}\n{}", if blank { " \n" } else { "" }));
        }
        csv
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        /// Row indices count rows, and a file cut anywhere reads the same whatever the chunk size.
        #[test]
        fn row_indices_and_cut_ends_do_not_depend_on_the_chunk_size(
            rows in rows(),
            cut in any::<usize>(),
            chunk in 1usize..40,
            lenient in any::<bool>(),
        ) {
            let csv = table(&rows);
            let options = Options { lenient, ..Options::default() };
            let log = read_as("r.csv", csv.as_bytes(), &options).unwrap();
            let losses: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let indices: Vec<i64> = (0..rows.len() as i64).collect();
            prop_assert_eq!(series(&log, "loss"), (&indices[..], &losses[..]));
            prop_assert!(!log.truncated && log.skipped == 0);
            let cut = &csv[..cut % (csv.len() + 1)];
            let whole = read_as("r.csv", cut.as_bytes(), &options);
            let chunked = read_as("r.csv", cut.as_bytes(), &Options { chunk_bytes: Some(chunk), ..options });
            match (whole, chunked) {
                (Ok(a), Ok(b)) => {
                    prop_assert_eq!((&a.series, &a.tags, a.skipped, a.truncated), (&b.series, &b.tags, b.skipped, b.truncated));
                    // A cut file keeps a prefix of the rows (the last one maybe cut to a shorter number).
                    let (steps, values) = series(&a, "loss");
                    prop_assert_eq!(steps, &indices[..steps.len()]);
                    let n = values.len().saturating_sub(1);
                    prop_assert_eq!(&values[..n], &losses[..n]);
                }
                (a, b) => prop_assert_eq!(a.err().map(|e| e.to_string().split_once(": ").map(|(_, w)| w.to_owned())),
                                          b.err().map(|e| e.to_string().split_once(": ").map(|(_, w)| w.to_owned()))),
            }
        }
    }
}
