//! A small JSON scanner that pulls the numeric leaves out of an object, borrowing from the input.
//!
//! Why not serde_json: Python's `json.dump` writes a diverged loss as the bare tokens `NaN` and
//! `Infinity`, which strict JSON parsers (serde_json included) reject, and a diverged loss is exactly
//! the record a diagnosis must not lose. This scanner accepts them, allocates nothing for plain keys,
//! flattens nested objects as `outer/inner`, skips strings, booleans, nulls and arrays, and bounds
//! nesting depth so hostile input cannot overflow the stack.

use std::borrow::Cow;

const MAX_DEPTH: usize = 64;

/// A numeric leaf: its key path and the number's text (parsed later as a step or a value).
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf<'a> {
    pub key: Cow<'a, str>,
    pub number: &'a [u8],
    /// Whether the leaf sits directly in the record (step keys must).
    pub top_level: bool,
}

/// Where and why the text is not JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    pub at: usize,
    pub what: &'static str,
}

pub type JsonResult<T> = Result<T, JsonError>;

pub struct Scanner<'a> {
    s: &'a [u8],
    pub pos: usize,
}

impl<'a> Scanner<'a> {
    pub fn new(s: &'a [u8]) -> Self {
        Scanner { s, pos: 0 }
    }

    fn err<T>(&self, what: &'static str) -> JsonResult<T> {
        Err(JsonError { at: self.pos, what })
    }

    pub fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.pos) {
            self.pos += 1;
        }
    }

    pub fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    pub fn at_end(&mut self) -> bool {
        self.skip_ws();
        self.pos >= self.s.len()
    }

    fn expect(&mut self, b: u8, what: &'static str) -> JsonResult<()> {
        self.skip_ws();
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// A string, unescaped only when it holds escapes.
    pub fn string(&mut self) -> JsonResult<Cow<'a, str>> {
        self.expect(b'"', "expected a string")?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(i) = memchr::memchr2(b'"', b'\\', &self.s[self.pos..]) else {
                return self.err("unterminated string");
            };
            self.pos += i;
            if self.s[self.pos] == b'"' {
                break;
            }
            escaped = true;
            self.pos += 2; // the backslash and the escaped character
            if self.pos > self.s.len() {
                return self.err("unterminated string");
            }
        }
        let raw = &self.s[start..self.pos];
        self.pos += 1;
        if escaped {
            // Rare (keys with quotes or unicode escapes): let serde_json apply the escape rules.
            let quoted = &self.s[start - 1..self.pos];
            return serde_json::from_slice::<String>(quoted)
                .map(Cow::Owned)
                .map_err(|_| JsonError { at: start, what: "invalid string escape" });
        }
        std::str::from_utf8(raw).map(Cow::Borrowed).map_err(|_| JsonError { at: start, what: "invalid UTF-8" })
    }

    /// A number, or one of Python's non-standard `NaN`, `Infinity`, `-Infinity`.
    fn number(&mut self) -> JsonResult<&'a [u8]> {
        let start = self.pos;
        for word in [&b"NaN"[..], b"Infinity", b"-Infinity"] {
            if self.s[self.pos..].starts_with(word) {
                self.pos += word.len();
                return Ok(&self.s[start..self.pos]);
            }
        }
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.pos += 1;
        }
        if self.pos == start {
            return self.err("expected a value");
        }
        Ok(&self.s[start..self.pos])
    }

    fn literal(&mut self, word: &'static [u8]) -> JsonResult<()> {
        if self.s[self.pos..].starts_with(word) {
            self.pos += word.len();
            Ok(())
        } else {
            self.err("expected a value")
        }
    }

    /// Collect the numeric leaves of the object at the cursor into `out` (keys of nested objects are
    /// joined with `/`).
    pub fn object(&mut self, out: &mut Vec<Leaf<'a>>) -> JsonResult<()> {
        self.object_at(None, 0, out)
    }

    fn object_at(&mut self, prefix: Option<&str>, depth: usize, out: &mut Vec<Leaf<'a>>) -> JsonResult<()> {
        if depth >= MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.expect(b'{', "expected an object")?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            let key = match prefix {
                Some(p) => Cow::Owned(format!("{p}/{key}")),
                None => key,
            };
            self.expect(b':', "expected ':' after a key")?;
            self.skip_ws();
            match self.peek() {
                Some(b'{') => self.object_at(Some(&key), depth + 1, out)?,
                Some(b'-' | b'0'..=b'9' | b'N' | b'I') => {
                    let number = self.number()?;
                    out.push(Leaf { key, number, top_level: depth == 0 });
                }
                _ => self.skip_value(depth + 1)?,
            }
            if !self.more(b'}')? {
                return Ok(());
            }
        }
    }

    /// After a member or element: true past a `,`, false past the `close` bracket.
    fn more(&mut self, close: u8) -> JsonResult<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(true)
            }
            Some(b) if b == close => {
                self.pos += 1;
                Ok(false)
            }
            _ => self.err(if close == b'}' { "expected ',' or '}'" } else { "expected ',' or ']'" }),
        }
    }

    /// Skip any value (checking its syntax).
    pub fn skip_value(&mut self, depth: usize) -> JsonResult<()> {
        if depth >= MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.skip_ws();
        match self.peek() {
            Some(b'"') => self.string().map(|_| ()),
            Some(b'{') => self.object_at(Some(""), depth, &mut Vec::new()),
            Some(b'[') => {
                self.pos += 1;
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    self.skip_value(depth + 1)?;
                    if !self.more(b']')? {
                        return Ok(());
                    }
                }
            }
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            _ => self.number().map(|_| ()),
        }
    }

    /// Move the cursor to the value of `key` in the object at the cursor, skipping other members.
    /// Returns false (cursor after the object) when the key is absent.
    pub fn find_key(&mut self, key: &str) -> JsonResult<bool> {
        self.expect(b'{', "expected an object")?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(false);
        }
        loop {
            self.skip_ws();
            let k = self.string()?;
            self.expect(b':', "expected ':' after a key")?;
            if k == key {
                self.skip_ws();
                return Ok(true);
            }
            self.skip_value(1)?;
            if !self.more(b'}')? {
                return Ok(false);
            }
        }
    }

    /// Step into the array at the cursor; then call [`Scanner::next_element`] before each element.
    pub fn open_array(&mut self) -> JsonResult<()> {
        self.expect(b'[', "expected an array")
    }

    /// Whether another element follows (consuming the separating comma or the closing bracket).
    pub fn next_element(&mut self, first: bool) -> JsonResult<bool> {
        self.skip_ws();
        match self.peek() {
            Some(b']') if first => {
                self.pos += 1;
                Ok(false)
            }
            Some(_) if first => Ok(true),
            _ => self.more(b']'),
        }
    }
}

/// Parse a leaf's text as a float (accepting `NaN`, `Infinity`, `-Infinity`).
pub fn number_value(text: &[u8]) -> Option<f64> {
    match text {
        b"NaN" => Some(f64::NAN),
        b"Infinity" => Some(f64::INFINITY),
        b"-Infinity" => Some(f64::NEG_INFINITY),
        _ => fast_float2::parse::<f64, _>(text).ok(),
    }
}
