//! Test helpers: an independent protobuf/TFRecord *writer* (the reader under test only decodes), temp
//! files, and a one-call read.

use super::tfrecord::masked_crc;
use super::{read, LogResult, Options, ScalarLog};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

pub fn varint(mut v: u64, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

pub fn key(field: u32, wire: u8, out: &mut Vec<u8>) {
    varint(u64::from(field) << 3 | u64::from(wire), out);
}

pub fn bytes_field(field: u32, bytes: &[u8], out: &mut Vec<u8>) {
    key(field, 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

/// How a test scalar is stored in the summary value.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    Simple(f32),
    /// DT_FLOAT tensor, in `tensor_content` (true) or `float_val` (false).
    Float(f32, bool),
    /// DT_DOUBLE tensor in `double_val` (packed).
    Double(f64),
    /// A 3-element float tensor: not a scalar, must be ignored.
    Vector,
    /// An image summary: no scalar.
    Image,
}

fn tensor(dtype: u64, dims: &[u64], fill: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut t = Vec::new();
    key(1, 0, &mut t);
    varint(dtype, &mut t);
    let mut shape = Vec::new();
    for &d in dims {
        let mut dim = Vec::new();
        key(1, 0, &mut dim);
        varint(d, &mut dim);
        bytes_field(2, &dim, &mut shape);
    }
    bytes_field(2, &shape, &mut t);
    fill(&mut t);
    t
}

pub fn summary_value(tag: &str, val: Val) -> Vec<u8> {
    let mut v = Vec::new();
    bytes_field(1, tag.as_bytes(), &mut v);
    match val {
        Val::Simple(x) => {
            key(2, 5, &mut v);
            v.extend_from_slice(&x.to_le_bytes());
        }
        Val::Float(x, true) => bytes_field(8, &tensor(1, &[], |t| bytes_field(4, &x.to_le_bytes(), t)), &mut v),
        Val::Float(x, false) => bytes_field(8, &tensor(1, &[], |t| bytes_field(5, &x.to_le_bytes(), t)), &mut v),
        Val::Double(x) => bytes_field(8, &tensor(2, &[], |t| bytes_field(6, &x.to_le_bytes(), t)), &mut v),
        Val::Vector => {
            let content: Vec<u8> = [1f32, 2., 3.].iter().flat_map(|x| x.to_le_bytes()).collect();
            bytes_field(8, &tensor(1, &[3], |t| bytes_field(4, &content, t)), &mut v)
        }
        Val::Image => bytes_field(4, b"\x08\x02\x10\x02", &mut v),
    }
    v
}

/// An `Event` with wall time, step and summary values.
pub fn event(step: i64, wall_time: f64, values: &[(&str, Val)]) -> Vec<u8> {
    let mut e = Vec::new();
    key(1, 1, &mut e);
    e.extend_from_slice(&wall_time.to_le_bytes());
    key(2, 0, &mut e);
    varint(step as u64, &mut e);
    let mut summary = Vec::new();
    for (tag, val) in values {
        bytes_field(1, &summary_value(tag, *val), &mut summary);
    }
    if !values.is_empty() {
        bytes_field(5, &summary, &mut e);
    }
    e
}

/// The file-version event every writer starts with.
pub fn version_event() -> Vec<u8> {
    let mut e = Vec::new();
    key(1, 1, &mut e);
    e.extend_from_slice(&1.0f64.to_le_bytes());
    bytes_field(3, b"brain.Event:2", &mut e);
    e
}

pub fn record(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u64).to_le_bytes();
    let mut r = Vec::with_capacity(payload.len() + 16);
    r.extend_from_slice(&len);
    r.extend_from_slice(&masked_crc(&len).to_le_bytes());
    r.extend_from_slice(payload);
    r.extend_from_slice(&masked_crc(payload).to_le_bytes());
    r
}

/// An event file holding `n` steps of `loss` (simple value) and `lr` (float tensor).
pub fn event_file(n: i64) -> Vec<u8> {
    let mut file = record(&version_event());
    for step in 0..n {
        let values = [("loss", Val::Simple(2.0 / (step as f32 + 1.0))), ("lr", Val::Float(0.1, step % 2 == 0))];
        file.extend(record(&event(step, 1000.0 + step as f64, &values)));
    }
    file
}

/// A fresh directory under the system temp dir.
pub fn temp_dir(label: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("lrpulse-logs-{}-{label}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok();
    dir
}

/// Write `content` as `name` in a fresh directory and return its path.
pub fn write(name: &str, content: &[u8]) -> PathBuf {
    let path = temp_dir(name.replace('/', "_").as_str()).join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).ok();
    }
    std::fs::write(&path, content).ok();
    path
}

pub fn read_as(name: &str, content: &[u8], options: &Options) -> LogResult<ScalarLog> {
    let path = write(name, content);
    let result = read(&path, options);
    if let Some(dir) = path.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    result
}

/// The series of `tag` in `log` as (steps, values).
pub fn series<'a>(log: &'a ScalarLog, tag: &str) -> (&'a [i64], &'a [f64]) {
    log.series.iter().find(|s| s.tag == tag).map_or((&[], &[]), |s| (&s.steps[..], &s.values[..]))
}
