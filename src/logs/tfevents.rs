//! TensorBoard event files (`events.out.tfevents.*`): a TFRecord stream of `Event` protobufs.
//!
//! Each record is `u64 length | u32 masked_crc32c(length) | payload | u32 masked_crc32c(payload)`, all
//! little-endian. Scalars come from `Event.summary.value[]` either as `simple_value` (torch's
//! `SummaryWriter`, tensorboardX, TF1) or as a one-element float tensor (TF2/Keras `tf.summary.scalar`,
//! torch with `new_style=True`).

use super::collect::Collector;
use super::error::{LogError, LogResult};
use super::protobuf::{fixed_elements, first_packed_varint, packed_varint_count, Field, Fields, WireResult};
use super::source::Parser;
use std::path::PathBuf;

const HEADER: usize = 12;
const FOOTER: usize = 4;

/// TFRecord's CRC mask: rotate right by 15 and add a constant, so a CRC of data that holds CRCs is not
/// degenerate.
pub fn masked_crc(data: &[u8]) -> u32 {
    let crc = crc32c::crc32c(data);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

/// The payload length of the record header at the start of `data`, if its checksum holds.
pub fn record_length(data: &[u8]) -> Option<u64> {
    let header = data.get(..HEADER)?;
    (masked_crc(&header[..8]) == le_u32(&header[8..])).then(|| le_u64(header))
}

pub struct Events {
    path: PathBuf,
    lenient: bool,
    max_record: usize,
    truncated: bool,
    skipped: u64,
    /// Lenient mode after a bad length checksum: sliding byte by byte to the next valid header.
    resyncing: bool,
}

impl Events {
    pub fn new(path: PathBuf, lenient: bool, max_record: usize) -> Self {
        Events { path, lenient, max_record, truncated: false, skipped: 0, resyncing: false }
    }

    fn damaged(&mut self, offset: u64, what: String) -> LogResult<()> {
        if self.lenient {
            self.skipped += 1;
            Ok(())
        } else {
            Err(LogError::corrupt(&self.path, offset, what))
        }
    }
}

impl Parser for Events {
    fn parse(&mut self, data: &[u8], offset: u64, eof: bool, out: &mut Collector) -> LogResult<usize> {
        let mut pos = 0usize;
        while pos < data.len() {
            let at = offset + pos as u64;
            let rest = &data[pos..];
            if rest.len() < HEADER {
                if eof {
                    self.truncated = true;
                    return Ok(data.len());
                }
                break;
            }
            let Some(len) = record_length(rest) else {
                if self.resyncing {
                    pos += 1;
                    continue;
                }
                let what = "bad length checksum: not an event file, or a damaged record".to_owned();
                self.damaged(at, what)?;
                self.resyncing = true;
                pos += 1;
                continue;
            };
            let total = usize::try_from(len)
                .ok()
                .and_then(|n| n.checked_add(HEADER + FOOTER))
                .filter(|&t| t <= self.max_record);
            let Some(total) = total else {
                return Err(LogError::corrupt(&self.path, at, format!("a record claims {len} bytes, more than the limit")));
            };
            if rest.len() < total {
                if eof {
                    self.truncated = true;
                    return Ok(data.len());
                }
                break;
            }
            self.resyncing = false;
            let payload = &rest[HEADER..total - FOOTER];
            if masked_crc(payload) != le_u32(&rest[total - FOOTER..]) {
                self.damaged(at, "bad payload checksum: a damaged record".to_owned())?;
            } else if let Err(e) = decode_event(payload, out) {
                self.damaged(at + HEADER as u64, format!("{e}"))?;
            }
            pos += total;
        }
        if eof {
            // Only reached with every byte used, or while sliding over garbage to the end.
            return Ok(data.len());
        }
        Ok(pos)
    }

    fn truncated(&self) -> bool {
        self.truncated
    }

    fn skipped(&self) -> u64 {
        self.skipped
    }
}

/// Decodes one `Event`, pushing each scalar summary value into `out`.
pub fn decode_event(event: &[u8], out: &mut Collector) -> WireResult<()> {
    let mut wall_time = 0.0;
    let mut step = 0i64;
    let mut has_summary = false;
    for field in Fields::new(event) {
        match field? {
            (1, f) => wall_time = f.as_f64().unwrap_or(wall_time),
            (2, f) => step = f.as_i64().unwrap_or(step),
            (5, Field::Bytes(_)) => has_summary = true,
            _ => {}
        }
    }
    if !has_summary {
        return Ok(());
    }
    // Fields may come in any order, so the summaries are read once step and wall time are known.
    for field in Fields::new(event) {
        if let (5, Field::Bytes(summary)) = field? {
            for value in Fields::new(summary) {
                if let (1, Field::Bytes(value)) = value? {
                    if let Some((tag, v)) = decode_value(value)? {
                        let tag = String::from_utf8_lossy(tag);
                        if let Some(slot) = out.slot(&tag) {
                            out.push_timed(slot, step, v, wall_time);
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// A `Summary.Value`: its tag and scalar, if it holds one (images, histograms, text hold none).
fn decode_value(value: &[u8]) -> WireResult<Option<(&[u8], f64)>> {
    let mut tag: &[u8] = b"";
    let mut simple = None;
    let mut tensor = None;
    for field in Fields::new(value) {
        match field? {
            (1, Field::Bytes(b)) => tag = b,
            (2, f) => simple = f.as_f32(),
            (8, Field::Bytes(b)) => tensor = Some(b),
            _ => {}
        }
    }
    let v = match (simple, tensor) {
        (Some(v), _) => Some(f64::from(v)),
        (None, Some(t)) => tensor_scalar(t)?,
        (None, None) => None,
    };
    Ok(v.map(|v| (tag, v)))
}

// TensorFlow's DataType enum values for the floating types a scalar summary can hold.
const DT_FLOAT: u64 = 1;
const DT_DOUBLE: u64 = 2;
const DT_BFLOAT16: u64 = 14;
const DT_HALF: u64 = 19;

/// Values of one repeated numeric field, packed or not: how many and the first.
#[derive(Default, Clone, Copy)]
struct Repeated {
    count: usize,
    first: Option<u64>,
}

impl Repeated {
    fn add_fixed<const N: usize>(&mut self, f: Field<'_>, to_bits: fn([u8; N]) -> u64) -> WireResult<()> {
        match f {
            Field::Bytes(b) => {
                let mut elems = fixed_elements::<N>(b)?;
                let n = b.len() / N;
                if self.first.is_none() {
                    self.first = elems.next().map(to_bits);
                }
                self.count += n;
            }
            Field::Fixed32(b) if N == 4 => self.push(to_bits(b[..N].try_into().unwrap_or([0; N]))),
            Field::Fixed64(b) if N == 8 => self.push(to_bits(b[..N].try_into().unwrap_or([0; N]))),
            _ => {}
        }
        Ok(())
    }

    fn add_varint(&mut self, f: Field<'_>) -> WireResult<()> {
        match f {
            Field::Bytes(b) => {
                let first = first_packed_varint(b)?;
                self.count += packed_varint_count(b)?;
                self.first = self.first.or(first);
            }
            Field::Varint(v) => self.push(v),
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, bits: u64) {
        self.count += 1;
        self.first = self.first.or(Some(bits));
    }

    fn single(&self) -> Option<u64> {
        (self.count == 1).then_some(self.first).flatten()
    }
}

/// The value of a `TensorProto` holding exactly one float, double, half or bfloat16 element.
fn tensor_scalar(tensor: &[u8]) -> WireResult<Option<f64>> {
    let mut dtype = 0;
    let mut elements: u64 = 1; // no shape field: a rank-0 tensor
    let mut content: Option<&[u8]> = None;
    let (mut floats, mut doubles, mut halves) = (Repeated::default(), Repeated::default(), Repeated::default());
    for field in Fields::new(tensor) {
        match field? {
            (1, Field::Varint(v)) => dtype = v,
            (2, Field::Bytes(shape)) => elements = shape_elements(shape)?,
            (4, Field::Bytes(b)) => content = Some(b),
            (5, f) => floats.add_fixed::<4>(f, |b| u64::from(u32::from_le_bytes(b)))?,
            (6, f) => doubles.add_fixed::<8>(f, u64::from_le_bytes)?,
            (13, f) => halves.add_varint(f)?,
            _ => {}
        }
    }
    if elements != 1 {
        return Ok(None);
    }
    let from_content = |n: usize| content.filter(|c| c.len() == n);
    let value = match dtype {
        DT_FLOAT => match from_content(4) {
            Some(c) => Some(f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            None => floats.single().map(|b| f64::from(f32::from_bits(b as u32))),
        },
        DT_DOUBLE => match from_content(8) {
            Some(c) => Some(f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
            None => doubles.single().map(f64::from_bits),
        },
        DT_HALF => match from_content(2) {
            Some(c) => Some(f16_to_f64(u16::from_le_bytes([c[0], c[1]]))),
            None => halves.single().map(|b| f16_to_f64(b as u16)),
        },
        DT_BFLOAT16 => match from_content(2) {
            Some(c) => Some(f64::from(f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))),
            None => halves.single().map(|b| f64::from(f32::from_bits(((b as u32) & 0xffff) << 16))),
        },
        _ => None,
    };
    Ok(value)
}

/// Number of elements of a `TensorShapeProto` (product of its dims; unknown rank counts as scalar).
fn shape_elements(shape: &[u8]) -> WireResult<u64> {
    let mut n: u64 = 1;
    for field in Fields::new(shape) {
        if let (2, Field::Bytes(dim)) = field? {
            for f in Fields::new(dim) {
                if let (1, Field::Varint(size)) = f? {
                    // Negative (-1 = unknown) or huge sizes make the tensor "not a scalar".
                    n = n.saturating_mul(if (size as i64) < 0 { 2 } else { size });
                }
            }
        }
    }
    Ok(n)
}

/// IEEE half precision bits to f64.
pub fn f16_to_f64(bits: u16) -> f64 {
    let sign = if bits & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = i32::from((bits >> 10) & 0x1f);
    let frac = f64::from(bits & 0x3ff);
    match exp {
        0 => sign * frac * 2f64.powi(-24),
        31 if frac == 0.0 => sign * f64::INFINITY,
        31 => f64::NAN,
        _ => sign * (1.0 + frac / 1024.0) * 2f64.powi(exp - 15),
    }
}
