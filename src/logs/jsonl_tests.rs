//! Tests of the JSON-lines and trainer_state.json readers: step keys, repeated keys, errors.
use super::super::testutil::{read_as, series};
use super::super::{LogError, Options};

fn opts() -> Options {
    Options::default()
}

fn lenient() -> Options {
    Options { lenient: true, ..Options::default() }
}

fn named(step: &str) -> Options {
    Options { step: Some(step.into()), ..Options::default() }
}

/// The line error a read gives.
fn line_error(name: &str, text: &str, options: &Options) -> (u64, String) {
    match read_as(name, text.as_bytes(), options) {
        Err(LogError::Line { line, what, .. }) => (line, what),
        other => panic!("expected a line error, got {other:?}"),
    }
}

fn error(line: u64, what: &str) -> (u64, String) {
    (line, what.to_owned())
}

#[test]
fn steps_that_are_not_integers_are_errors_showing_the_value() {
    // They used to be taken for absent, and the line index became the step.
    let text = "{\"step\":\"0\",\"loss\":1}\n{\"step\":\"10\",\"loss\":2}\n";
    assert_eq!(line_error("s.jsonl", text, &opts()), error(1, "step \"step\" is \"0\", not an integer"));
    for value in ["\"10\"", "null", "true", "1.5", "99999999999999999999", "NaN", "[1]", "{\"a\": 1}"] {
        let text = format!("{{\"step\": 0, \"loss\": 1}}\n{{\"step\": {value}, \"loss\": 2}}\n{{\"step\": 2, \"loss\": 3}}\n");
        let want = format!("step \"step\" is {value}, not an integer");
        assert_eq!(line_error("s.jsonl", &text, &opts()), (2, want));
        let log = read_as("s.jsonl", text.as_bytes(), &lenient()).unwrap();
        assert_eq!(series(&log, "loss"), (&[0, 2][..], &[1.0, 3.0][..]), "{value}");
        assert_eq!(log.skipped, 1);
    }
    let long = format!("{{\"step\": \"{}\", \"loss\": 1}}\n", "x".repeat(100));
    assert!(line_error("s.jsonl", &long, &opts()).1.ends_with(&format!("\"{}..., not an integer", "x".repeat(39))));
    let log = read_as("s.jsonl", b"{\"step\": 10.0, \"loss\": 1}\n{\"step\": -3, \"loss\": 2}\n", &opts()).unwrap();
    assert_eq!(series(&log, "loss").0, &[10, -3]);
}

#[test]
fn a_record_without_the_files_step_key_is_an_error_not_its_line_index() {
    let text = "{\"step\":100,\"loss\":1.5}\n{\"loss\":1.4}\n{\"step\":300,\"loss\":1.3}\n";
    assert_eq!(line_error("m.jsonl", text, &opts()), error(2, "no \"step\" (line 1 has one)"));
    let log = read_as("m.jsonl", text.as_bytes(), &lenient()).unwrap();
    assert_eq!((series(&log, "loss"), log.skipped), ((&[100, 300][..], &[1.5, 1.3][..]), 1));
    // Only another step name is no step: `epoch` is a value where the file's key is `step`.
    let other = "{\"step\": 1, \"loss\": 2}\n{\"epoch\": 1, \"val_loss\": 3}\n";
    assert_eq!(line_error("m.jsonl", other, &opts()), error(2, "no \"step\" (line 1 has one)"));
    // A record before the first step key is no exception: the key is chosen from the first lines.
    let config = "{\"config\": {\"lr\": 0.1}}\n{\"step\": 5, \"loss\": 1}\n";
    assert_eq!(line_error("m.jsonl", config, &opts()), error(1, "no \"step\" (line 2 has one)"));
    let log = read_as("m.jsonl", config.as_bytes(), &lenient()).unwrap();
    assert_eq!((log.tags.clone(), series(&log, "loss").0, log.skipped), (vec!["loss".to_owned()], &[5][..], 1));
    // A record without values has nothing to place: a header, passed over.
    let header = "{\"run\": \"abc\", \"note\": null, \"tags\": [1]}\n{\"step\": 5, \"loss\": 1}\n{}\n";
    let log = read_as("m.jsonl", header.as_bytes(), &opts()).unwrap();
    assert_eq!((series(&log, "loss").0, log.skipped), (&[5][..], 0));
}

#[test]
fn only_a_file_without_step_keys_takes_the_line_index() {
    let log = read_as("i.jsonl", b"{\"loss\": 1}\n\n{\"loss\": 2, \"note\": \"x\"}\n", &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[0, 2][..], &[1.0, 2.0][..]));
    // A step key past the lines looked at cannot join the line indexes used before it.
    let mut text: String = (0..1000).map(|i| format!("{{\"loss\": {i}}}\n")).collect();
    text.push_str("{\"step\": 5, \"loss\": 1}\n");
    let want = "has step key \"step\", but the first 1000 lines have none (their index is their step)";
    assert_eq!(line_error("i.jsonl", &text, &opts()), error(1001, want));
    let log = read_as("i.jsonl", text.as_bytes(), &lenient()).unwrap();
    assert_eq!((series(&log, "loss").0.len(), log.skipped), (1000, 1));
}

#[test]
fn the_step_key_is_chosen_from_the_first_lines_whatever_the_chunk_size() {
    // `step` is preferred to `epoch`, even when a record holding only `epoch` comes first.
    let text = "{\"epoch\": 0, \"lr\": 0.1}\n{\"step\": 10, \"epoch\": 0, \"loss\": 2}\n{\"step\": 20, \"epoch\": 1, \"loss\": 1}\n";
    let bom = "\u{feff}{\"Step\": 3, \"loss\": 1}\n{\"step\": 4, \"loss\": 2}";
    for chunk in [None, Some(1), Some(7), Some(64)] {
        let options = Options { chunk_bytes: chunk, ..opts() };
        assert_eq!(line_error("c.jsonl", text, &options), error(1, "no \"step\" (line 2 has one)"));
        let log = read_as("c.jsonl", text.as_bytes(), &Options { lenient: true, ..options.clone() }).unwrap();
        assert_eq!(series(&log, "loss"), (&[10, 20][..], &[2.0, 1.0][..]));
        assert_eq!(series(&log, "epoch"), (&[10, 20][..], &[0.0, 1.0][..]));
        assert_eq!(log.skipped, 1);
        let log = read_as("c.jsonl", bom.as_bytes(), &options).unwrap();
        assert_eq!(series(&log, "loss").0, &[3, 4], "a byte order mark, then a key spelled in capitals");
    }
}

#[test]
fn large_files_read_in_parallel_pieces_keep_their_steps_and_errors_name_the_files_line() {
    let n = 100_000; // over 3 MB: cut into pieces parsed on two threads
    let mut lines: Vec<String> = (0..n).map(|i| format!("{{\"step\": {}, \"loss\": {i}.5}}", 3 * i)).collect();
    let log = read_as("big.jsonl", (lines.join("\n") + "\n").as_bytes(), &opts()).unwrap();
    let (steps, values) = series(&log, "loss");
    assert!(steps.iter().copied().eq((0..n as i64).map(|i| 3 * i)));
    assert!(values.iter().enumerate().all(|(i, &v)| v == i as f64 + 0.5));
    lines[90_000] = "{\"loss\": 1}".into();
    let text = lines.join("\n") + "\n";
    assert_eq!(line_error("big.jsonl", &text, &opts()), error(90_001, "no \"step\" (line 1 has one)"));
    let log = read_as("big.jsonl", text.as_bytes(), &lenient()).unwrap();
    assert_eq!((series(&log, "loss").0.len(), log.skipped), (n - 1, 1));
}

#[test]
fn a_step_option_naming_an_absent_key_is_an_error_listing_the_keys() {
    let text = b"{\"loss\": 1, \"lr\": 0.1}\n{\"loss\": 2, \"opt\": {\"m\": 1}}\n";
    for options in [named("nope"), Options { lenient: true, ..named("nope") }] {
        match read_as("n.jsonl", text, &options) {
            Err(LogError::Format { what, .. }) => assert_eq!(what, "no step key \"nope\"; keys: loss, lr, opt"),
            other => panic!("{other:?}"),
        }
    }
    // A named key is matched exactly and wins over `step`, which becomes a value.
    let text = "{\"step\": 1, \"it\": 10, \"loss\": 1}\n{\"step\": 2, \"loss\": 2}\n";
    assert_eq!(line_error("n.jsonl", text, &named("it")), error(2, "no \"it\" (line 1 has one)"));
    let log = read_as("n.jsonl", text.as_bytes(), &Options { lenient: true, ..named("it") }).unwrap();
    assert_eq!(series(&log, "step"), (&[10][..], &[1.0][..]));
    assert!(matches!(read_as("n.jsonl", text.as_bytes(), &named("IT")), Err(LogError::Format { .. })));
}

#[test]
fn a_repeated_key_gives_one_point_with_its_last_value() {
    let text = "{\"step\":0,\"loss\":1.5,\"loss\":9.0}\n{\"step\":1,\"a/b\":1,\"a\":{\"b\":2}}\n\
                {\"step\":2,\"loss\":3,\"loss\":\"n/a\"}\n{\"step\":3,\"step\":4,\"loss\":5}\n";
    let log = read_as("d.jsonl", text.as_bytes(), &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[0, 4][..], &[9.0, 5.0][..]));
    assert_eq!(series(&log, "a/b"), (&[1][..], &[2.0][..]));
}

#[test]
fn invalid_utf8_in_a_key_is_an_error() {
    // Enough valid lines around the bad byte that the file is still taken for text.
    let mut text: Vec<u8> = (0..20).flat_map(|i| format!("{{\"step\": {i}, \"loss\": 1}}\n").into_bytes()).collect();
    text.extend_from_slice(b"{\"step\": 20, \"lo\xffss\": 1}\n");
    match read_as("u.jsonl", &text, &opts()) {
        Err(LogError::Line { line: 21, what, .. }) => assert!(what.contains("invalid UTF-8"), "{what}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn trainer_state_steps_follow_the_same_rules() {
    let state = |history: &str| format!("{{\"global_step\": 7, \"log_history\": [\n{history}\n]}}");
    let name = "checkpoint-7/trainer_state.json";
    let bad = state("{\"loss\": 1, \"step\": 5},\n{\"loss\": 2, \"step\": \"7\"}");
    assert_eq!(line_error(name, &bad, &opts()), error(3, "log_history[1]: step \"step\" is \"7\", not an integer"));
    let log = read_as(name, bad.as_bytes(), &lenient()).unwrap();
    assert_eq!((series(&log, "loss").0, log.skipped), (&[5][..], 1));
    let missing = state("{\"loss\": 1, \"step\": 5},\n{\"loss\": 2}");
    assert_eq!(line_error(name, &missing, &opts()), error(3, "log_history[1]: no \"step\" (log_history[0] has one)"));
    let log = read_as(name, state("{\"loss\": 1},\n{\"loss\": 2}").as_bytes(), &opts()).unwrap();
    assert_eq!(series(&log, "loss").0, &[0, 1]); // no step key anywhere: the index
    let log = read_as(name, state("{\"loss\": 1, \"loss\": 3, \"step\": 5}").as_bytes(), &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[5][..], &[3.0][..]));
    match read_as(name, missing.as_bytes(), &named("it")) {
        Err(LogError::Format { what, .. }) => assert_eq!(what, "no step key \"it\"; keys: loss, step"),
        other => panic!("{other:?}"),
    }
}
