//! Plain text logs (stdout captures, `train.log`): each line with a step is searched for `name value`
//! pairs, with a default pattern or a user-supplied regex.
//!
//! The default understands the common shapes: `step 100 ... loss 2.31`, `step=100 loss=2.31`,
//! `Step: 100 | loss: 2.31 | lr: 1e-3`, `[100] loss: 2.31`, `iter 100/5000 loss 2.31`, `it 100 |
//! loss=2.31`, fairseq's `| num_updates 100 | loss 2.31`. Every
//! `name[:=] number` pair on a line holding a step becomes a point of tag `name`. A user regex names
//! its groups: `value` (required), `step` (else the 0-based line number is the step) and `tag` (else
//! the tag is `value`); every match on a line is a point.

use super::collect::{tag_name, Collector};
use super::error::{LogError, LogResult};
use super::json::number_value;
use super::lines::{numbered_lines, LineFormat, Pos};
use regex::bytes::Regex;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

const DEFAULT_STEP: &str = r"(?i-u)(?:\b(?:global_step|step|iteration|iter|it|num_updates)\b\s*[:=#]?\s*\[?\s*(?P<s1>\d+)|^\s*\[\s*(?P<s2>\d+)\s*(?:/\s*\d+\s*)?\])";
const DEFAULT_PAIR: &str = r"(?i-u)\b(?P<tag>[a-z_][a-z0-9_./-]*)(?:\s*[:=]\s*|\s+)(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?))(?:[\s,;|)\]}]|$)";

/// How lines are turned into points; compiled once and shared by every file of a scan.
#[derive(Debug)]
pub enum Pattern {
    Default { step: Regex, pair: Regex },
    User { re: Regex, has_step: bool, has_tag: bool },
}

impl Pattern {
    /// Compiled once per process: compiling took about 0.2 ms, five times the read of a small log, and a
    /// scan opens thousands.
    pub fn default_pattern() -> LogResult<Arc<Pattern>> {
        static DEFAULT: OnceLock<Result<Arc<Pattern>, String>> = OnceLock::new();
        let compiled = DEFAULT.get_or_init(|| {
            let compile = |p: &str| Regex::new(p).map_err(|e| format!("{e}"));
            Ok(Arc::new(Pattern::Default { step: compile(DEFAULT_STEP)?, pair: compile(DEFAULT_PAIR)? }))
        });
        compiled.clone().map_err(|e| LogError::option("pattern", "the default pattern", &format!("must compile: {e}")))
    }

    pub fn user(pattern: &str) -> LogResult<Arc<Pattern>> {
        let re = Regex::new(pattern).map_err(|e| {
            let first = e.to_string().lines().last().unwrap_or("").trim().to_owned();
            LogError::option("pattern", format!("{pattern:?}"), &format!("must be a valid regex ({first})"))
        })?;
        let names: Vec<&str> = re.capture_names().flatten().collect();
        if !names.contains(&"value") {
            return Err(LogError::option("pattern", format!("{pattern:?}"), "must have a named group (?P<value>...)"));
        }
        let (has_step, has_tag) = (names.contains(&"step"), names.contains(&"tag"));
        Ok(Arc::new(Pattern::User { re, has_step, has_tag }))
    }
}

pub struct Text {
    path: PathBuf,
    lenient: bool,
    pattern: Arc<Pattern>,
}

impl Text {
    pub fn new(path: PathBuf, lenient: bool, pattern: Arc<Pattern>) -> Self {
        Text { path, lenient, pattern }
    }
}

fn push(out: &mut Collector, tag: &[u8], step: i64, value: f64) {
    let tag = tag_name(tag);
    if let Some(slot) = out.slot(&tag) {
        out.push(slot, step, value);
    }
}

impl LineFormat for Text {
    fn needs_line_numbers(&self) -> bool {
        matches!(*self.pattern, Pattern::User { has_step: false, .. })
    }

    fn parse_piece(&self, text: &[u8], at: Pos, out: &mut Collector, skipped: &mut u64) -> LogResult<Pos> {
        let mut lines = 0;
        for (line_no, line) in numbered_lines(text, at.line) {
            lines += 1;
            match &*self.pattern {
                Pattern::Default { step, pair } => {
                    let Some(caps) = step.captures(line) else { continue };
                    let Some(m) = caps.name("s1").or_else(|| caps.name("s2")) else { continue };
                    let Some(s) = std::str::from_utf8(m.as_bytes()).ok().and_then(|t| t.parse::<i64>().ok()) else {
                        continue; // more digits than an int64 holds: not a step
                    };
                    let step_span = caps.get(0).map_or(0..0, |whole| whole.range());
                    for p in pair.captures_iter(line) {
                        let (Some(tag), Some(value)) = (p.name("tag"), p.name("value")) else { continue };
                        if tag.start() < step_span.end && step_span.start < value.end() {
                            continue; // the step itself ("step 100")
                        }
                        if let Some(v) = number_value(value.as_bytes()).or_else(|| parse_special(value.as_bytes())) {
                            push(out, tag.as_bytes(), s, v);
                        }
                    }
                }
                Pattern::User { re, has_step, has_tag } => {
                    for caps in re.captures_iter(line) {
                        let value = caps.name("value").map_or(&b""[..], |m| m.as_bytes());
                        let step_text = caps.name("step").map_or(&b""[..], |m| m.as_bytes());
                        let step = if *has_step { super::csv::parse_step(step_text.trim_ascii()) } else { Some(line_no as i64 - 1) };
                        let v = number_value(value.trim_ascii()).or_else(|| parse_special(value.trim_ascii()));
                        let (Some(step), Some(v)) = (step, v) else {
                            if caps.name("step").is_none() && *has_step {
                                continue; // an optional step group that did not take part
                            }
                            let what = format!(
                                "the pattern matched step {:?} and value {:?}, which are not an integer and a number",
                                String::from_utf8_lossy(step_text),
                                String::from_utf8_lossy(value)
                            );
                            if self.lenient {
                                *skipped += 1;
                                continue;
                            }
                            return Err(LogError::line(&self.path, line_no, what));
                        };
                        let tag = if *has_tag { caps.name("tag").map_or(&b"value"[..], |m| m.as_bytes()) } else { b"value" };
                        push(out, tag, step, v);
                    }
                }
            }
        }
        Ok(Pos { line: lines, record: lines })
    }
}

/// `nan`, `inf`, `-inf`, `infinity` in any case (Python and C print them so).
fn parse_special(text: &[u8]) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let (neg, body) = match lower.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, &lower[..]),
    };
    let v = match body {
        b"nan" => f64::NAN,
        b"inf" | b"infinity" => f64::INFINITY,
        _ => return None,
    };
    Some(if neg { -v } else { v })
}
