//! Reader tests on hand-built files. The expected values are written down from how each file was built,
//! never taken from the reader's own output. Python tests compare against tensorboard, pandas and csv.

use super::testutil::*;
use super::*;

fn opts() -> Options {
    Options::default()
}

fn only(tags: &[&str]) -> Options {
    Options { tags: TagFilter::only(tags.iter().map(|t| t.to_string())), ..Options::default() }
}

#[test]
fn event_files_yield_simple_and_tensor_scalars_with_steps_and_wall_times() {
    let mut file = record(&version_event());
    file.extend(record(&event(-3, 5.5, &[("a", Val::Simple(1.5)), ("img", Val::Image)])));
    file.extend(record(&event(7, 6.5, &[("b", Val::Float(0.25, true)), ("c", Val::Float(-2.0, false))])));
    file.extend(record(&event(1 << 40, 7.5, &[("d", Val::Double(0.1)), ("hist", Val::Vector), ("a", Val::Simple(3.0))])));
    let log = read_as("events.out.tfevents.1.host", &file, &opts()).unwrap();
    assert_eq!(log.format, Format::Events);
    assert_eq!(log.tags, vec!["a", "b", "c", "d"]); // image and vector tensor hold no scalar
    assert_eq!(series(&log, "a"), (&[-3, 1 << 40][..], &[1.5, 3.0][..]));
    assert_eq!(series(&log, "b"), (&[7][..], &[0.25][..]));
    assert_eq!(series(&log, "c"), (&[7][..], &[-2.0][..]));
    assert_eq!(series(&log, "d"), (&[1 << 40][..], &[0.1][..]));
    assert_eq!(log.series[0].wall_times, vec![5.5, 7.5]);
    assert!(!log.truncated);
}

#[test]
fn a_truncated_event_file_keeps_every_complete_record_and_says_so() {
    let file = event_file(5);
    let first = record(&version_event()).len();
    for cut in 0..file.len() {
        let log = read_as("events.out.tfevents.t", &file[..cut], &opts());
        if cut == 0 {
            assert!(matches!(log, Err(LogError::Format { .. })), "empty file");
            continue;
        }
        let log = log.unwrap();
        let (steps, _) = series(&log, "loss");
        let whole = record(&event(0, 1000.0, &[("loss", Val::Simple(2.0)), ("lr", Val::Float(0.1, true))])).len();
        let complete = if cut < first { 0 } else { (cut - first) / whole };
        assert_eq!(steps.len(), complete, "cut at {cut}");
        let at_boundary = cut == first || (cut > first && (cut - first) % whole == 0);
        assert_eq!(log.truncated, !at_boundary, "cut at {cut}");
    }
}

#[test]
fn a_bad_checksum_names_the_byte_offset_and_lenient_mode_skips_the_record() {
    let mut file = event_file(4);
    let first = record(&version_event()).len();
    let whole = (file.len() - first) / 4;
    let damaged_at = first + 2 * whole;
    file[damaged_at + 20] ^= 0x40; // inside the third record's payload
    match read_as("events.out.tfevents.c", &file, &opts()) {
        Err(LogError::Corrupt { offset, what, .. }) => {
            assert_eq!(offset, damaged_at as u64);
            assert!(what.contains("checksum"), "{what}");
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
    let lenient = Options { lenient: true, ..opts() };
    let log = read_as("events.out.tfevents.c", &file, &lenient).unwrap();
    assert_eq!(series(&log, "loss").0, &[0, 1, 3]);
    assert_eq!(log.skipped, 1);
}

#[test]
fn lenient_mode_resyncs_after_a_damaged_length_field() {
    let mut file = event_file(4);
    let first = record(&version_event()).len();
    file[first + 3] ^= 1; // the first scalar record's length
    assert!(matches!(read_as("events.out.tfevents.l", &file, &opts()), Err(LogError::Corrupt { offset, .. }) if offset == first as u64));
    let log = read_as("events.out.tfevents.l", &file, &Options { lenient: true, ..opts() }).unwrap();
    assert_eq!(series(&log, "loss").0, &[1, 2, 3]);
    assert_eq!(log.skipped, 1);
}

#[test]
fn lightning_csv_with_sparse_rows() {
    let csv = "epoch,step,train_loss,val_loss,lr-SGD\n0,0,2.5,,0.1\n0,1,2.25,,\n0,1,,2.4,\n1,2,2.0,,0.05\n";
    let log = read_as("lightning_logs/version_0/metrics.csv", csv.as_bytes(), &opts()).unwrap();
    assert_eq!(log.tags, vec!["epoch", "train_loss", "val_loss", "lr-SGD"]);
    assert_eq!(series(&log, "train_loss"), (&[0, 1, 2][..], &[2.5, 2.25, 2.0][..]));
    assert_eq!(series(&log, "val_loss"), (&[1][..], &[2.4][..]));
    assert_eq!(series(&log, "lr-SGD"), (&[0, 2][..], &[0.1, 0.05][..]));
}

#[test]
fn keras_csv_tsv_quotes_text_columns_and_row_index_steps() {
    let keras = "epoch,loss,val_loss\r\n0,0.9,NA\r\n1,0.7,0.75\r\n";
    let log = read_as("training.log.csv", keras.as_bytes(), &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[0, 1][..], &[0.9, 0.7][..]));
    assert_eq!(series(&log, "val_loss"), (&[1][..], &[0.75][..]));
    let tsv = "\u{feff}iter\tloss\tphase\n10\t1.5\ttrain\n20\tnan\ttrain\n";
    let log = read_as("log.tsv", tsv.as_bytes(), &opts()).unwrap();
    assert_eq!(log.tags, vec!["loss"]);
    let (steps, values) = series(&log, "loss");
    assert_eq!(steps, &[10, 20]);
    assert!(values[0] == 1.5 && values[1].is_nan());
    let quoted = "\"loss\",\"acc\"\n\"1.0\",2\n 3 , \"4.5\"\n";
    let log = read_as("q.csv", quoted.as_bytes(), &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[0, 1][..], &[1.0, 3.0][..]));
    assert_eq!(series(&log, "acc"), (&[0, 1][..], &[2.0, 4.5][..]));
}

#[test]
fn quoted_cells_may_hold_line_breaks_and_errors_name_the_physical_line() {
    let csv = "step,note,loss\n1,\"warm-up,\nstill \"\"warm\"\"\",2.5\n2,,2.25\n3,\"a\nb\nc\",x\n";
    for chunk in [None, Some(1), Some(7)] {
        let options = Options { chunk_bytes: chunk, ..opts() };
        match read_as("n.csv", csv.as_bytes(), &options) {
            // The record with the bad loss starts on line 5: line 2's record spans two lines.
            Err(LogError::Line { line: 5, what, .. }) => assert!(what.contains("\"x\""), "{what}"),
            other => panic!("{other:?}"),
        }
        let log = read_as("n.csv", csv.as_bytes(), &Options { lenient: true, ..options }).unwrap();
        assert_eq!(log.tags, vec!["loss"], "the note column holds text");
        assert_eq!(series(&log, "loss"), (&[1, 2][..], &[2.5, 2.25][..]));
        assert_eq!(log.skipped, 1);
    }
    let unclosed = "step,loss\n1,2.5\n2,\"2.25\n3,1\n";
    match read_as("u.csv", unclosed.as_bytes(), &opts()) {
        Err(LogError::Line { line: 3, what, .. }) => assert!(what.contains("not closed"), "{what}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn malformed_csv_rows_are_errors_with_line_numbers_or_counted_when_lenient() {
    let csv = "step,loss\n0,1.0\n1\n2,abc\n3,0.5\n";
    match read_as("m.csv", csv.as_bytes(), &opts()) {
        Err(LogError::Line { line: 3, what, .. }) => assert!(what.contains("1 cells"), "{what}"),
        other => panic!("{other:?}"),
    }
    let log = read_as("m.csv", csv.as_bytes(), &Options { lenient: true, ..opts() }).unwrap();
    assert_eq!(series(&log, "loss"), (&[0, 3][..], &[1.0, 0.5][..]));
    assert_eq!(log.skipped, 2);
    let bad_step = "step,loss\n0,1\nx,2\n";
    assert!(matches!(read_as("s.csv", bad_step.as_bytes(), &opts()), Err(LogError::Line { line: 3, .. })));
    let named = Options { step: Some("nope".into()), ..opts() };
    assert!(matches!(read_as("s.csv", b"a,b\n1,2\n", &named), Err(LogError::Format { what, .. }) if what.contains("nope")));
}

#[test]
fn json_lines_accept_nan_nested_objects_and_report_bad_lines() {
    let jsonl = "{\"step\": 1, \"loss\": 2.5, \"note\": \"warm\", \"opt\": {\"lr\": 0.1}, \"h\": [1, 2]}\n\n\
                 {\"step\": 2, \"loss\": NaN, \"grad\": Infinity, \"ok\": true}\n{\"step\": 3, \"loss\": -Infinity}\n";
    let log = read_as("run.jsonl", jsonl.as_bytes(), &opts()).unwrap();
    assert_eq!(log.tags, vec!["loss", "opt/lr", "grad"]);
    let (steps, values) = series(&log, "loss");
    assert_eq!(steps, &[1, 2, 3]);
    assert!(values[0] == 2.5 && values[1].is_nan() && values[2] == f64::NEG_INFINITY);
    assert_eq!(series(&log, "opt/lr"), (&[1][..], &[0.1][..]));
    let bad = "{\"step\": 1, \"loss\": 1}\n{\"step\": 2, \"loss\": }\n{\"step\": 3.5, \"loss\": 1}\n[1]\n";
    assert!(matches!(read_as("b.jsonl", bad.as_bytes(), &opts()), Err(LogError::Line { line: 2, .. })));
    let log = read_as("b.jsonl", bad.as_bytes(), &Options { lenient: true, ..opts() }).unwrap();
    assert_eq!((series(&log, "loss").0, log.skipped), (&[1][..], 3));
}

#[test]
fn json_lines_and_csv_take_wandbs_step_key_but_prefer_the_trainers() {
    // wandb's own counter is `_step`; Lightning's WandbLogger also logs `trainer/global_step`.
    let wandb = "{\"_step\": 5, \"loss\": 2.0, \"_runtime\": 1.5}\n{\"_step\": 9, \"loss\": 1.5}\n";
    let log = read_as("w.jsonl", wandb.as_bytes(), &opts()).unwrap();
    assert_eq!(series(&log, "loss"), (&[5, 9][..], &[2.0, 1.5][..]));
    assert!(!log.tags.iter().any(|t| t == "_step"));
    let both = "{\"_step\": 0, \"trainer/global_step\": 100, \"loss\": 2.0}\n";
    assert_eq!(series(&read_as("b.jsonl", both.as_bytes(), &opts()).unwrap(), "loss").0, &[100]);
    let csv = "_step,loss\n3,2.0\n4,1.0\n";
    assert_eq!(series(&read_as("w.csv", csv.as_bytes(), &opts()).unwrap(), "loss").0, &[3, 4]);
}

#[test]
fn trainer_state_log_history() {
    let state = r#"{"best_metric": null, "epoch": 1.0, "global_step": 20,
      "log_history": [
        {"epoch": 0.5, "grad_norm": 1.25, "learning_rate": 5e-05, "loss": 2.75, "step": 10},
        {"epoch": 1.0, "eval_loss": 2.5, "eval_runtime": 0.5, "step": 20},
        {"epoch": 1.0, "loss": NaN, "step": 20}
      ], "max_steps": 20}"#;
    let log = read_as("checkpoint-20/trainer_state.json", state.as_bytes(), &opts()).unwrap();
    assert_eq!(log.format, Format::TrainerState);
    let (steps, values) = series(&log, "loss");
    assert_eq!(steps, &[10, 20]);
    assert!(values[0] == 2.75 && values[1].is_nan());
    assert_eq!(series(&log, "eval_loss"), (&[20][..], &[2.5][..]));
    assert_eq!(series(&log, "epoch"), (&[10, 20, 20][..], &[0.5, 1.0, 1.0][..]));
    let broken = "{\"log_history\": [\n{\"loss\": 1, \"step\": 1},\n{\"loss\": 2 \"step\": 2}]}";
    let result = read_as("trainer_state.json", broken.as_bytes(), &opts());
    assert!(matches!(result, Err(LogError::Line { line: 3, .. })), "{result:?}");
}

#[test]
fn text_logs_with_the_default_pattern_and_a_user_regex() {
    let text = "INFO starting run\nEpoch 1 step 100/500 loss 2.31 lr 1e-3 (3.2s)\nstep=200 loss=nan acc=0.5\n\
                [300] loss: 1.75, grad_norm: 0.9\nStep: 400 | loss: 1.5 | eta 0:01:02\nit 500 | loss=1.25 | 9.5it/s\n\
                | epoch 002 | loss 1.125 | num_updates 600 | lr 1e-3\n";
    let log = read_as("train.log", text.as_bytes(), &opts()).unwrap();
    let (steps, values) = series(&log, "loss");
    assert_eq!(steps, &[100, 200, 300, 400, 500, 600]);
    assert!(values[0] == 2.31 && values[1].is_nan() && values[2] == 1.75 && values[3] == 1.5);
    assert_eq!(&values[4..], &[1.25, 1.125]);
    assert_eq!(series(&log, "lr"), (&[100, 600][..], &[1e-3, 1e-3][..]));
    assert_eq!(series(&log, "grad_norm"), (&[300][..], &[0.9][..]));
    assert!(!log.tags.iter().any(|t| t.eq_ignore_ascii_case("step") || t == "eta"), "{:?}", log.tags);
    let user = Options { pattern: Some(Pattern::user(r"it=(?P<step>\d+) (?P<tag>\w+)=(?P<value>\S+)").unwrap()), ..opts() };
    let log = read_as("x.txt", b"it=5 loss=0.5\nit=6 acc=0.25\nnothing\n", &user).unwrap();
    assert_eq!(series(&log, "loss"), (&[5][..], &[0.5][..]));
    assert_eq!(series(&log, "acc"), (&[6][..], &[0.25][..]));
    assert!(matches!(Pattern::user("(?P<step>\\d+)"), Err(LogError::Option { .. })));
    assert!(matches!(Pattern::user("(unclosed"), Err(LogError::Option { .. })));
}

#[test]
fn formats_are_detected_from_content_and_garbage_is_refused() {
    let detect = |content: &[u8]| read_as("unnamed", content, &opts()).map(|l| l.format);
    assert_eq!(detect(&event_file(2)).unwrap(), Format::Events);
    assert_eq!(detect(b"step,loss\n1,2\n").unwrap(), Format::Csv);
    assert_eq!(detect(b"step\tloss\n1\t2\n").unwrap(), Format::Tsv);
    assert_eq!(detect(b"{\"step\": 1, \"loss\": 2}\n").unwrap(), Format::Jsonl);
    assert_eq!(detect(b"{\n \"log_history\": []\n}").unwrap(), Format::TrainerState);
    assert_eq!(detect(b"step 1 loss 2\n").unwrap(), Format::Text);
    assert!(matches!(detect(b""), Err(LogError::Format { what, .. }) if what.contains("empty")));
    assert!(matches!(detect(b"\x00\x01\x02garbage\xff"), Err(LogError::Format { what, .. }) if what.contains("binary")));
    assert!(matches!(read_as("metrics.csv", b"a,b\n\x00\x00", &opts()), Err(LogError::Format { .. })));
    // The delimiter is sniffed from the header, the first line that is not blank.
    let semicolons = read_as("m.csv", b"\n\nstep;loss\n1;2.5\n", &opts()).unwrap();
    assert_eq!(series(&semicolons, "loss"), (&[1][..], &[2.5][..]));
    // A `.log` holding JSON lines (with a byte order mark, or indented) is read as JSON lines.
    let json_log = read_as("train.log", b"\xef\xbb\xbf  {\"step\": 3, \"loss\": 2.5}\n", &opts()).unwrap();
    assert_eq!((json_log.format, series(&json_log, "loss").0), (Format::Jsonl, &[3][..]));
    // A Latin-1 byte in a text cell is not binary; UTF-16 gets its own reason.
    let latin1 = read_as("m.csv", b"step,loss,note\n0,2.5,caf\xe9\n1,2.25,ok\n", &opts()).unwrap();
    assert_eq!(series(&latin1, "loss"), (&[0, 1][..], &[2.5, 2.25][..]));
    let utf16: Vec<u8> = "\u{feff}step,loss\n0,1\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
    assert!(matches!(read_as("m.csv", &utf16, &opts()), Err(LogError::Format { what, .. }) if what.contains("UTF-16")));
    assert!(matches!(read_as("events.out.tfevents.g", b"not an event file at all", &opts()), Err(LogError::Corrupt { offset: 0, .. })));
}

#[test]
fn missing_tags_list_the_tags_present() {
    match read_as("m.csv", b"step,loss,lr\n1,2,3\n", &only(&["los", "lr"])) {
        Err(LogError::MissingTags { missing, available, .. }) => {
            assert_eq!(missing, vec!["los"]);
            assert_eq!(available, vec!["loss", "lr"]);
        }
        other => panic!("{other:?}"),
    }
    let log = read_as("events.out.tfevents.f", &event_file(3), &only(&["lr"])).unwrap();
    assert_eq!((log.series.len(), log.tags.len()), (1, 2)); // only lr kept, both seen
}

#[test]
fn folders_are_scanned_into_named_runs() {
    let root = temp_dir("scan");
    let put = |rel: &str, content: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    };
    put("tb/run1/events.out.tfevents.2.h", &event_file(2));
    put("tb/run1/events.out.tfevents.1.h", &event_file(3));
    put("tb/run1/events.out.tfevents.10.h", &event_file(4));
    put("pl/version_0/metrics.csv", b"step,loss\n1,2\n");
    put("pl/version_0/hparams.yaml", b"lr: 0.1\n");
    put("hf/checkpoint-5/trainer_state.json", b"{\"log_history\": [{\"loss\": 1, \"step\": 5}]}");
    put(".git/x.log", b"step 1 loss 2\n");
    put("notes.txt", b"not a log");
    let runs = find_runs(&root).unwrap();
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["hf/checkpoint-5/trainer_state.json", "pl/version_0/metrics.csv", "tb/run1"]);
    let logs = read_many(&runs, &opts());
    let tb = logs[2].as_ref().unwrap();
    assert_eq!(series(tb, "loss").0, &[0, 1, 2, 0, 1, 0, 1, 2, 3]); // creation-time order: .1, .2, .10
    assert!(matches!(read(&root, &opts()), Err(LogError::Format { what, .. }) if what.contains("3 runs")));
    assert_eq!(read(&root.join("tb/run1"), &opts()).unwrap().series[0].steps.len(), 9);
    // A newer event file its writer has not flushed yet is empty: the run is read, flagged truncated.
    put("tb/run1/events.out.tfevents.11.h", b"");
    let log = read(&root.join("tb/run1"), &opts()).unwrap();
    assert_eq!((log.series[0].steps.len(), log.truncated), (9, true));
    put("tb/alone/events.out.tfevents.1.h", b"");
    assert!(matches!(read(&root.join("tb/alone"), &opts()), Err(LogError::Format { what, .. }) if what.contains("empty")));
    let empty = temp_dir("empty");
    assert!(matches!(find_runs(&empty), Err(LogError::NoLogs { .. })));
    assert!(matches!(read(&empty.join("missing.csv"), &opts()), Err(LogError::Io { kind: error::IoKind::NotFound, .. })));
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn large_line_logs_read_in_parallel_pieces_equal_the_rows_written() {
    let n = 200_000;
    let mut csv = String::from("step,loss,lr\n");
    for i in 0..n {
        csv.push_str(&format!("{i},{},{}\n", i as f64 * 0.5, if i % 3 == 0 { "0.1" } else { "" }));
    }
    for chunk in [None, Some(4096)] {
        let log = read_as("big.csv", csv.as_bytes(), &Options { chunk_bytes: chunk, ..opts() }).unwrap();
        let (steps, values) = series(&log, "loss");
        assert_eq!(steps.len(), n);
        assert!(steps.iter().zip(values).enumerate().all(|(i, (&s, &v))| s == i as i64 && v == i as f64 * 0.5));
        assert_eq!(series(&log, "lr").0.len(), n.div_ceil(3));
    }
    let no_step: String = csv.lines().map(|l| l.split_once(',').map_or(l, |(_, rest)| rest)).collect::<Vec<_>>().join("\n");
    let log = read_as("nostep.csv", no_step.as_bytes(), &opts()).unwrap();
    assert!(series(&log, "loss").0.iter().enumerate().all(|(i, &s)| s == i as i64)); // the row index
    let mut bad = csv.clone();
    bad.push_str("oops\n");
    assert!(matches!(read_as("big.csv", bad.as_bytes(), &opts()), Err(LogError::Line { line, .. }) if line == n as u64 + 2));
}

#[test]
fn large_event_files_decode_in_parallel_runs_with_errors_in_file_order() {
    let n = 30_000; // several thousand records per thread: the parallel decoding path
    let file = event_file(n);
    let log = read_as("events.out.tfevents.big", &file, &opts()).unwrap();
    let (steps, values) = series(&log, "loss");
    assert!(steps.iter().copied().eq(0..n));
    assert!(values.iter().enumerate().all(|(i, &v)| v == f64::from(2.0 / (i as f32 + 1.0))));
    assert_eq!(log.series[0].wall_times[n as usize - 1], 1000.0 + (n - 1) as f64);
    // Damage a record early (first thread's run) and one late (the last thread's run).
    let starts = record_starts(&file);
    let (early, late) = (starts[1000], starts[n as usize - 1000]);
    let mut damaged = file.clone();
    damaged[late + 20] ^= 0x40;
    match read_as("events.out.tfevents.big", &damaged, &opts()) {
        Err(LogError::Corrupt { offset, .. }) => assert_eq!(offset, late as u64),
        other => panic!("{other:?}"),
    }
    damaged[early + 20] ^= 0x40;
    match read_as("events.out.tfevents.big", &damaged, &opts()) {
        Err(LogError::Corrupt { offset, what, .. }) => assert!(offset == early as u64 && what.contains("payload checksum")),
        other => panic!("{other:?}"),
    }
    let log = read_as("events.out.tfevents.big", &damaged, &Options { lenient: true, ..opts() }).unwrap();
    assert_eq!((log.skipped, series(&log, "loss").0.len()), (2, n as usize - 2));
}

/// Where each record of a well-formed TFRecord file starts.
fn record_starts(file: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    while let Some(len) = tfrecord::record_length(&file[*starts.last().unwrap()..]) {
        starts.push(starts.last().unwrap() + 16 + len as usize);
    }
    starts.pop();
    starts
}

#[test]
fn streaming_in_chunks_gives_the_points_of_a_whole_read() {
    let mut csv = String::from("step,loss\n");
    for i in 0..5000 {
        csv.push_str(&format!("{i},{}\n", i as f64 / 7.0));
    }
    let path = write("stream.csv", csv.as_bytes());
    let options = Options { chunk_bytes: Some(1000), ..opts() };
    let mut reader = LogReader::open(&path, &options).unwrap();
    let mut out = reader.collector(&options);
    let (mut steps, mut chunks) = (Vec::new(), 0);
    while reader.read_into(&mut out, 333).unwrap() {
        for s in out.take_series() {
            steps.extend(s.steps);
        }
        chunks += 1;
    }
    assert_eq!(steps, (0..5000).collect::<Vec<i64>>());
    assert!(chunks > 5, "{chunks} chunks");
    assert_eq!(out.seen, vec!["loss"]);
}

#[test]
fn pipes_and_devices_are_refused_without_blocking() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("metrics.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    // Opening a FIFO for reading blocks until a writer comes: the check must come before any open.
    let result = read(&fifo, &opts());
    assert!(matches!(&result, Err(LogError::Format { what, .. }) if what.contains("not a regular file")), "{result:?}");
    let forced = Options { format: Some(Format::Events), lenient: true, ..opts() };
    let result = read(Path::new("/dev/zero"), &forced);
    assert!(matches!(&result, Err(LogError::Format { what, .. }) if what.contains("not a regular file")), "{result:?}");
}

#[test]
fn event_tags_that_differ_only_in_invalid_utf8_stay_apart() {
    let mut file = record(&version_event());
    for (step, tag) in [(0i64, &b"lo\xffss"[..]), (0, b"lo\xfess"), (1, b"lo\xffss")] {
        let mut value = Vec::new();
        bytes_field(1, tag, &mut value);
        key(2, 5, &mut value);
        value.extend_from_slice(&(step as f32 + 0.5).to_le_bytes());
        let mut summary = Vec::new();
        bytes_field(1, &value, &mut summary);
        let mut e = event(step, 1.0, &[]);
        bytes_field(5, &summary, &mut e);
        file.extend(record(&e));
    }
    let log = read_as("events.out.tfevents.u", &file, &opts()).unwrap();
    assert_eq!(log.tags, vec!["lo\\xffss", "lo\\xfess"]);
    assert_eq!(series(&log, "lo\\xffss"), (&[0, 1][..], &[0.5, 1.5][..]));
    assert_eq!(series(&log, "lo\\xfess"), (&[0][..], &[0.5][..]));
}

#[test]
fn a_log_of_many_tags_reserves_little_for_each() {
    // One JSON line with 5000 keys: each series holds one point and must not reserve far more.
    let line: Vec<String> = (0..5000).map(|i| format!("\"k{i}\": {i}")).collect();
    let log = read_as("wide.jsonl", format!("{{{}}}\n", line.join(", ")).as_bytes(), &opts()).unwrap();
    assert_eq!(log.series.len(), 5000);
    assert!(log.series.iter().all(|s| s.values.capacity() <= 8 && s.steps.capacity() <= 8));
}

/// Run `f` with this thread's filesystem uid set to `nobody`, so permission bits apply even to root
/// (the fsuid is per thread, and leaving 0 drops the DAC-override capabilities until it is restored).
#[cfg(target_os = "linux")]
fn as_nobody<T>(f: impl FnOnce() -> T) -> T {
    // SAFETY: setfsuid only changes this thread's filesystem credentials; it is restored before returning.
    unsafe { libc::setfsuid(65534) };
    let out = f();
    unsafe { libc::setfsuid(0) };
    out
}

#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_subfolder_is_a_run_that_says_why_not_a_silent_gap() {
    use std::os::unix::fs::PermissionsExt;
    let root = temp_dir("locked");
    for sub in ["good", "locked"] {
        std::fs::create_dir_all(root.join(sub)).unwrap();
        std::fs::write(root.join(sub).join("m.csv"), b"step,loss\n0,2\n1,1.5\n").unwrap();
    }
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    // On this thread only: the pool's threads keep their own credentials.
    let found = as_nobody(|| {
        find_runs(&root).map(|runs| runs.iter().map(|r| (r.name.clone(), read_run(r, &opts()))).collect::<Vec<_>>())
    });
    std::fs::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (names, logs): (Vec<String>, Vec<_>) = found.unwrap().into_iter().unzip();
    assert_eq!(names, vec!["good/m.csv", "locked"]);
    assert!(logs[0].is_ok());
    let denied = matches!(&logs[1], Err(LogError::Io { kind: error::IoKind::PermissionDenied, .. }));
    assert!(denied, "{:?}", logs[1]);
    let _ = std::fs::remove_dir_all(&root);
}
