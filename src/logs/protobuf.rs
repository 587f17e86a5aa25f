//! A minimal protobuf wire-format reader: just enough to walk `Event` -> `Summary` -> `Value` ->
//! `TensorProto` and pick out the handful of scalar fields we need.
//!
//! Why not `prost`: prost decodes into owned structs, allocating a `String` per tag and a `Vec` per
//! tensor for every record, and needs the `.proto` files plus a build script (or checked-in generated
//! code) for four messages of which we read eight fields. This reader borrows from the record buffer,
//! allocates nothing, skips what it does not need, and every read is bounds-checked: malformed input is
//! a [`WireError`], never a panic.

/// Why a message could not be decoded. The caller adds the file and byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireError {
    Truncated,
    BadVarint,
    BadWireType(u8),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => write!(f, "malformed protobuf: a field runs past the end of its message"),
            WireError::BadVarint => write!(f, "malformed protobuf: a varint longer than 10 bytes"),
            WireError::BadWireType(t) => write!(f, "malformed protobuf: unsupported wire type {t}"),
        }
    }
}

pub type WireResult<T> = Result<T, WireError>;

/// One field's payload, borrowed from the message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Field<'a> {
    Varint(u64),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
    Fixed32([u8; 4]),
}

impl Field<'_> {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Field::Fixed64(b) => Some(f64::from_le_bytes(*b)),
            _ => None,
        }
    }

    pub fn as_f32(&self) -> Option<f32> {
        match self {
            Field::Fixed32(b) => Some(f32::from_le_bytes(*b)),
            _ => None,
        }
    }

    /// An `int64` field: protobuf stores negatives as 10-byte two's complement varints.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Field::Varint(v) => Some(*v as i64),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Field::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// Iterates over the `(field number, payload)` pairs of one message.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Fields { buf, pos: 0 }
    }

    fn take(&mut self, n: usize) -> WireResult<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let out = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn field(&mut self) -> WireResult<(u32, Field<'a>)> {
        let key = read_varint(self.buf, &mut self.pos)?;
        let number = (key >> 3) as u32;
        let field = match (key & 7) as u8 {
            0 => Field::Varint(read_varint(self.buf, &mut self.pos)?),
            1 => Field::Fixed64(self.take(8)?.try_into().map_err(|_| WireError::Truncated)?),
            2 => {
                let len = read_varint(self.buf, &mut self.pos)?;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated)?;
                Field::Bytes(self.take(len)?)
            }
            5 => Field::Fixed32(self.take(4)?.try_into().map_err(|_| WireError::Truncated)?),
            // Groups (3, 4) are deprecated and never appear in event files; 6 and 7 do not exist.
            other => return Err(WireError::BadWireType(other)),
        };
        Ok((number, field))
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = WireResult<(u32, Field<'a>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.buf.len() {
            return None;
        }
        let item = self.field();
        if item.is_err() {
            self.pos = self.buf.len(); // stop after the first error
        }
        Some(item)
    }
}

/// Reads a base-128 varint at `*pos`, advancing it.
pub fn read_varint(buf: &[u8], pos: &mut usize) -> WireResult<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let byte = *buf.get(*pos).ok_or(WireError::Truncated)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError::BadVarint)
}

/// The elements of a packed repeated field of fixed-width numbers (`float_val`, `double_val`), or of
/// `tensor_content`. A trailing partial element is malformed.
pub fn fixed_elements<const N: usize>(bytes: &[u8]) -> WireResult<impl Iterator<Item = [u8; N]> + '_> {
    if bytes.len() % N != 0 {
        return Err(WireError::Truncated);
    }
    Ok(bytes.chunks_exact(N).filter_map(|c| c.try_into().ok()))
}

/// The first varint of a packed repeated varint field (`int_val`, `int64_val`, `half_val`).
pub fn first_packed_varint(bytes: &[u8]) -> WireResult<Option<u64>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut pos = 0;
    read_varint(bytes, &mut pos).map(Some)
}

/// Number of varints in a packed repeated varint field.
pub fn packed_varint_count(bytes: &[u8]) -> WireResult<usize> {
    let mut pos = 0;
    let mut n = 0;
    while pos < bytes.len() {
        read_varint(bytes, &mut pos)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_including_negative_int64() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, (-5i64) as u64, u64::MAX] {
            let mut buf = Vec::new();
            crate::logs::testutil::varint(v, &mut buf);
            let mut pos = 0;
            assert_eq!(read_varint(&buf, &mut pos), Ok(v));
            assert_eq!(pos, buf.len());
        }
    }

    #[test]
    fn overlong_and_cut_varints_are_errors() {
        let mut pos = 0;
        assert_eq!(read_varint(&[0x80; 11], &mut pos), Err(WireError::BadVarint));
        let mut pos = 0;
        assert_eq!(read_varint(&[0x80, 0x80], &mut pos), Err(WireError::Truncated));
    }

    #[test]
    fn a_length_past_the_end_is_truncated_not_a_panic() {
        // field 1, wire type 2, length 100, but only 2 bytes follow
        let fields: Vec<_> = Fields::new(&[0x0a, 100, 1, 2]).collect();
        assert_eq!(fields, vec![Err(WireError::Truncated)]);
        let huge: Vec<_> = Fields::new(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).collect();
        assert_eq!(huge, vec![Err(WireError::Truncated)]);
    }
}
