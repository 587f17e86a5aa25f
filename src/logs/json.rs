//! A small JSON scanner that pulls the leaves out of an object, borrowing from the input.
//!
//! Why not serde_json: Python's `json.dump` writes a diverged loss as the bare tokens `NaN` and
//! `Infinity`, which strict JSON parsers (serde_json included) reject, and a diverged loss is exactly
//! the record a diagnosis must not lose. This scanner accepts them, allocates nothing for plain keys,
//! flattens nested objects as `outer/inner`, and bounds nesting depth so hostile input cannot overflow
//! the stack.

use std::borrow::Cow;
use std::collections::HashSet;

const MAX_DEPTH: usize = 64;

/// Records with at most this many leaves are checked for repeated keys pair by pair (cheaper than
/// hashing for the few keys a metrics record holds).
const PAIRWISE_MAX: usize = 16;

/// What a leaf's value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Number,
    String,
    /// `true`, `false` or `null`.
    Literal,
    Array,
    /// An object: its members follow it as leaves of their own.
    Object,
}

/// A member of a record, under its flattened key. Only numbers become points; the other values are
/// kept too, because a step key may hold one (to be reported, not mistaken for absent) and because a
/// later value replaces an earlier one under the same key whatever their types.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf<'a> {
    pub key: Cow<'a, str>,
    /// The value as written: a number's text, a string with its quotes, `null`, `[...]`, `{...}`.
    pub text: &'a [u8],
    pub kind: Kind,
    /// Whether the leaf sits directly in the record (step keys must).
    pub top_level: bool,
    /// For an object, the number of leaves nested in it (they follow it).
    pub nested: u32,
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

    fn expect_byte(&mut self, b: u8, what: &'static str) -> JsonResult<()> {
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
        self.expect_byte(b'"', "expected a string")?;
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

    /// Collect the leaves of the object at the cursor into `out` (keys of nested objects are joined
    /// with `/`).
    pub fn object(&mut self, out: &mut Vec<Leaf<'a>>) -> JsonResult<()> {
        self.object_at(None, 0, Some(out))
    }

    /// An object's members, collected into `out`, or only checked when `out` is `None` (a skipped value
    /// builds no keys).
    fn object_at(&mut self, prefix: Option<&str>, depth: usize, mut out: Option<&mut Vec<Leaf<'a>>>) -> JsonResult<()> {
        if depth >= MAX_DEPTH {
            return self.err("nested too deeply");
        }
        self.expect_byte(b'{', "expected an object")?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            let key = self.string()?;
            self.expect_byte(b':', "expected ':' after a key")?;
            self.skip_ws();
            match out.as_deref_mut() {
                Some(leaves) => self.member(key, prefix, depth, leaves)?,
                None => self.skip_value(depth + 1)?,
            }
            if !self.more(b'}')? {
                return Ok(());
            }
        }
    }

    /// The value of one member, as a leaf (followed by its own members for an object).
    fn member(&mut self, key: Cow<'a, str>, prefix: Option<&str>, depth: usize, out: &mut Vec<Leaf<'a>>) -> JsonResult<()> {
        let key = match prefix {
            Some(p) => Cow::Owned(format!("{p}/{key}")),
            None => key,
        };
        let start = self.pos;
        let top_level = depth == 0;
        let kind = match self.peek() {
            Some(b'{') => {
                // The object's leaf goes before its members; its key is filled in once they have used
                // it as their prefix.
                let head = out.len();
                out.push(Leaf { key: Cow::Borrowed(""), text: &[], kind: Kind::Object, top_level, nested: 0 });
                self.object_at(Some(&key), depth + 1, Some(out))?;
                let nested = u32::try_from(out.len() - head - 1).unwrap_or(u32::MAX);
                if let Some(leaf) = out.get_mut(head) {
                    *leaf = Leaf { key, text: &self.s[start..self.pos], kind: Kind::Object, top_level, nested };
                }
                return Ok(());
            }
            Some(b'-' | b'0'..=b'9' | b'N' | b'I') => {
                self.number()?;
                Kind::Number
            }
            Some(b'"') => {
                self.string()?;
                Kind::String
            }
            Some(b'[') => {
                self.skip_value(depth + 1)?;
                Kind::Array
            }
            _ => {
                self.skip_value(depth + 1)?;
                Kind::Literal
            }
        };
        out.push(Leaf { key, text: &self.s[start..self.pos], kind, top_level, nested: 0 });
        Ok(())
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
            Some(b'{') => self.object_at(None, depth, None),
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
        self.expect_byte(b'{', "expected an object")?;
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(false);
        }
        loop {
            self.skip_ws();
            let k = self.string()?;
            self.expect_byte(b':', "expected ':' after a key")?;
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
        self.expect_byte(b'[', "expected an array")
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

/// Which leaves a later one under the same key replaces, as Python's `json.loads` does for a repeated
/// key and pandas' `json_normalize` for a nested key flattened onto a literal one (`{"a/b": 1, "a":
/// {"b": 2}}` is `a/b` = 2): a record holds one value per tag. A replaced object takes its members
/// with it. `None` (the usual answer, found without allocating) when no key repeats.
pub fn replaced(leaves: &[Leaf<'_>]) -> Option<Vec<bool>> {
    let repeats = if leaves.len() <= PAIRWISE_MAX {
        leaves.iter().enumerate().any(|(i, a)| leaves[..i].iter().any(|b| a.key == b.key))
    } else {
        let mut seen = HashSet::with_capacity_and_hasher(leaves.len(), foldhash::fast::RandomState::default());
        !leaves.iter().all(|l| seen.insert(l.key.as_ref()))
    };
    if !repeats {
        return None;
    }
    let mut later = HashSet::with_capacity_and_hasher(leaves.len(), foldhash::fast::RandomState::default());
    let mut gone = vec![false; leaves.len()];
    for (i, leaf) in leaves.iter().enumerate().rev() {
        if !later.insert(leaf.key.as_ref()) {
            gone[i] = true;
        }
    }
    for (i, leaf) in leaves.iter().enumerate() {
        if gone[i] && leaf.kind == Kind::Object {
            let end = (i + 1).saturating_add(leaf.nested as usize).min(leaves.len());
            gone[i + 1..end].fill(true);
        }
    }
    Some(gone)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(text: &str) -> Vec<(String, Kind, String, bool)> {
        let mut out = Vec::new();
        Scanner::new(text.as_bytes()).object(&mut out).unwrap();
        out.iter().map(|l| (l.key.to_string(), l.kind, String::from_utf8_lossy(l.text).into_owned(), l.top_level)).collect()
    }

    fn kept(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        Scanner::new(text.as_bytes()).object(&mut out).unwrap();
        let gone = replaced(&out);
        let live = |i: usize| gone.as_ref().is_none_or(|g| !g[i]);
        out.iter().enumerate().filter(|&(i, _)| live(i)).map(|(_, l)| format!("{}={}", l.key, String::from_utf8_lossy(l.text))).collect()
    }

    #[test]
    fn every_value_is_a_leaf_with_its_kind_and_text() {
        let got = leaves(r#"{"step": "10", "a": null, "b": true, "h": [1, {"x": 2}], "o": {"lr": 0.5, "s": "x"}, "n": -1e3}"#);
        let want = [
            ("step", Kind::String, "\"10\"", true),
            ("a", Kind::Literal, "null", true),
            ("b", Kind::Literal, "true", true),
            ("h", Kind::Array, "[1, {\"x\": 2}]", true),
            ("o", Kind::Object, "{\"lr\": 0.5, \"s\": \"x\"}", true),
            ("o/lr", Kind::Number, "0.5", false),
            ("o/s", Kind::String, "\"x\"", false),
            ("n", Kind::Number, "-1e3", true),
        ];
        let want: Vec<_> = want.iter().map(|&(k, kind, t, top)| (k.to_owned(), kind, t.to_owned(), top)).collect();
        assert_eq!(got, want);
        let mut out = Vec::new();
        Scanner::new(br#"{"o": {"p": {"q": 1}}, "r": 2}"#).object(&mut out).unwrap();
        let nested: Vec<(&str, u32)> = out.iter().map(|l| (l.key.as_ref(), l.nested)).collect();
        assert_eq!(nested, vec![("o", 2), ("o/p", 1), ("o/p/q", 0), ("r", 0)]);
    }

    #[test]
    fn a_repeated_key_keeps_only_its_last_value() {
        assert_eq!(kept(r#"{"loss": 1.5, "lr": 1, "loss": 9.0}"#), ["lr=1", "loss=9.0"]);
        assert_eq!(kept(r#"{"loss": 1.5, "loss": "x"}"#), ["loss=\"x\""]);
        assert_eq!(kept(r#"{"a/b": 1, "a": {"b": 2}}"#), ["a={\"b\": 2}", "a/b=2"]);
        assert_eq!(kept(r#"{"a": {"b": 2}, "a/b": 1}"#), ["a={\"b\": 2}", "a/b=1"]);
        // A replaced object takes its members with it; a literal "a/c" is not one of them.
        assert_eq!(kept(r#"{"a": {"b": 1, "c": {"d": 3}}, "a/c": 4, "a": 5}"#), ["a/c=4", "a=5"]);
        assert_eq!(kept(r#"{"a": {"b": 1}, "a": {"c": 2}}"#), ["a={\"c\": 2}", "a/c=2"]);
        assert_eq!(kept(r#"{"x": 1, "y": 2}"#), ["x=1", "y=2"]);
        // Past the pairwise check: hashed.
        let wide: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 30)).collect();
        let got = kept(&format!("{{{}}}", wide.join(", ")));
        let want: Vec<String> = (0..30).map(|i| format!("k{i}={}", if i < 10 { i + 30 } else { i })).collect();
        let mut got_sorted = got.clone();
        got_sorted.sort();
        let mut want_sorted = want;
        want_sorted.sort();
        assert_eq!(got_sorted, want_sorted);
        assert!(replaced(&[]).is_none());
    }

    #[test]
    fn skipped_objects_are_checked_but_build_no_leaves() {
        let mut s = Scanner::new(br#"[{"a": {"b": 1}}, {"c": "\u00e9"}] tail"#);
        s.skip_value(1).unwrap();
        assert_eq!(&s.s[s.pos..], b" tail");
        assert!(Scanner::new(br#"[{"a": }]"#).skip_value(1).is_err());
        assert!(Scanner::new(b"{\"a\xff\": 1}").object(&mut Vec::new()).is_err_and(|e| e.what == "invalid UTF-8"));
    }
}
