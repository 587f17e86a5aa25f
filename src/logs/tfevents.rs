//! TensorBoard event files (`events.out.tfevents.*`): the `Event` protobufs inside the TFRecord
//! framing ([`super::tfrecord`]). Scalars come from `Event.summary.value[]` either as `simple_value` (torch's
//! `SummaryWriter`, tensorboardX, TF1) or as a one-element float tensor (TF2/Keras `tf.summary.scalar`,
//! torch with `new_style=True`).

use super::collect::{tag_name, Collector};
use super::protobuf::{fixed_elements, first_packed_varint, packed_varint_count, Field, Fields, WireResult};

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
                        let tag = tag_name(tag);
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
