//! The monitor's state as plain numbers (for `state_dict()`, pickling and `torch.load(weights_only=True)`):
//! integers for every exact sum, two floats per bucket for the LR extremes. Loading checks the structure
//! so a damaged state is an error, never a panic or a silently wrong monitor.

use super::bucket::Bucket;
use super::series::{Point, Series, HEAD_POINTS};
use crate::error::{Error, Result};

/// Bumped whenever the layout below changes.
pub const STATE_VERSION: u64 = 2;
/// Integer fields of a bucket, in this order.
pub const BUCKET_FIELDS: [&str; 25] = [
    "idx", "n", "sy", "syy", "st", "stt", "sty", "nd", "sd", "sdd", "npair", "nsc", "ymin", "ymax", "dmax", "t_dmax",
    "dmin", "t_first", "t_last", "nbad", "t_bad", "nlr", "nlr_pos", "slr", "reserved",
];

/// A series as plain data.
#[derive(Debug, Clone, PartialEq)]
pub struct Plain {
    pub cap: u64,
    pub level: u64,
    pub count: u64,
    pub first_step: Option<u64>,
    pub last_step: Option<u64>,
    pub head: Vec<(u64, i64)>,
    pub tail: Vec<(u64, i64)>,
    pub buckets: Vec<Vec<i128>>,
    pub bucket_lr: Vec<(f64, f64)>,
}

fn ints(b: &Bucket) -> Vec<i128> {
    vec![
        b.idx as i128, b.n as i128, b.sy, b.syy, b.st, b.stt, b.sty, b.nd as i128, b.sd, b.sdd, b.npair as i128,
        b.nsc as i128, b.ymin as i128, b.ymax as i128, b.dmax as i128, b.t_dmax as i128, b.dmin as i128,
        b.t_first as i128, b.t_last as i128, b.nbad as i128, b.t_bad as i128, b.nlr as i128, b.nlr_pos as i128, b.slr, 0,
    ]
}

fn bad(what: &str, i: usize, v: f64, req: &str) -> Error {
    Error::InvalidInput { what: format!("state {what}"), index: i, value: v, requirement: req.to_owned() }
}

fn u(v: i128, what: &str, i: usize) -> Result<u64> {
    u64::try_from(v).map_err(|_| bad(what, i, v as f64, "must fit in uint64"))
}

fn s(v: i128, what: &str, i: usize) -> Result<i64> {
    i64::try_from(v).map_err(|_| bad(what, i, v as f64, "must fit in int64"))
}

impl Series {
    pub fn to_plain(&self) -> Plain {
        Plain {
            cap: self.cap as u64,
            level: self.level as u64,
            count: self.count,
            first_step: self.first_step,
            last_step: self.last_step,
            head: self.head.iter().map(|p| (p.t, p.yq)).collect(),
            tail: self.tail.iter().map(|p| (p.t, p.yq)).collect(),
            buckets: self.buckets.iter().map(ints).collect(),
            bucket_lr: self.buckets.iter().map(|b| (b.lr_min, b.lr_max)).collect(),
        }
    }

    pub fn from_plain(p: &Plain, cap: usize) -> Result<Series> {
        if p.cap != cap as u64 {
            return Err(bad("cap", 0, p.cap as f64, &format!("must be {cap}")));
        }
        if p.level > 53 {
            return Err(bad("level", 0, p.level as f64, "must be <= 53"));
        }
        if p.buckets.len() > cap || p.buckets.len() != p.bucket_lr.len() {
            return Err(bad("buckets", 0, p.buckets.len() as f64, "must hold at most cap buckets, one LR pair each"));
        }
        if p.head.len() > HEAD_POINTS || p.tail.len() > 2 {
            let what = format!("must hold at most {HEAD_POINTS} head and 2 tail points");
            return Err(bad("head/tail", 0, p.head.len().max(p.tail.len()) as f64, &what));
        }
        let mut buckets = Vec::with_capacity(p.buckets.len());
        for (i, (v, lr)) in p.buckets.iter().zip(&p.bucket_lr).enumerate() {
            if v.len() != BUCKET_FIELDS.len() {
                return Err(bad("bucket", i, v.len() as f64, &format!("must have {} fields", BUCKET_FIELDS.len())));
            }
            let b = Bucket {
                idx: u(v[0], "bucket idx", i)?,
                n: u(v[1], "bucket n", i)?,
                sy: v[2],
                syy: v[3],
                st: v[4],
                stt: v[5],
                sty: v[6],
                nd: u(v[7], "bucket nd", i)?,
                sd: v[8],
                sdd: v[9],
                npair: u(v[10], "bucket npair", i)?,
                nsc: u(v[11], "bucket nsc", i)?,
                ymin: s(v[12], "bucket ymin", i)?,
                ymax: s(v[13], "bucket ymax", i)?,
                dmax: s(v[14], "bucket dmax", i)?,
                t_dmax: u(v[15], "bucket t_dmax", i)?,
                dmin: s(v[16], "bucket dmin", i)?,
                t_first: u(v[17], "bucket t_first", i)?,
                t_last: u(v[18], "bucket t_last", i)?,
                nbad: u(v[19], "bucket nbad", i)?,
                t_bad: u(v[20], "bucket t_bad", i)?,
                nlr: u(v[21], "bucket nlr", i)?,
                nlr_pos: u(v[22], "bucket nlr_pos", i)?,
                slr: v[23],
                lr_min: lr.0,
                lr_max: lr.1,
            };
            if b.idx > (u64::MAX >> p.level) || buckets.last().is_some_and(|l: &Bucket| l.idx >= b.idx) {
                return Err(bad("bucket idx", i, b.idx as f64, "must be increasing and within range"));
            }
            if b.n > 0 && (b.t_first >> p.level != b.idx || b.t_last >> p.level != b.idx || b.t_first > b.t_last) {
                return Err(bad("bucket t_first/t_last", i, b.t_first as f64, "must lie in the bucket"));
            }
            buckets.push(b);
        }
        let pts = |v: &[(u64, i64)]| v.iter().map(|&(t, yq)| Point { t, yq }).collect();
        let total: u64 = buckets.iter().map(|b| b.n + b.nbad).sum();
        if total != p.count || (p.count > 0) != p.first_step.is_some() || p.first_step.is_some() != p.last_step.is_some() {
            return Err(bad("count", 0, p.count as f64, "must equal the points in the buckets, with first/last step set"));
        }
        if let (Some(a), Some(b)) = (p.first_step, p.last_step) {
            if a > b || b >= super::ingest::MAX_STEP {
                return Err(bad("last_step", 0, b as f64, "must be >= first_step and < 2^53"));
            }
        }
        Ok(Series {
            cap,
            level: p.level as u32,
            buckets,
            head: pts(&p.head),
            tail: pts(&p.tail),
            first_step: p.first_step,
            last_step: p.last_step,
            count: p.count,
        })
    }
}
