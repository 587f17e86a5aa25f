//! The hot loop: fold a run of consecutive points that share one bucket into that bucket's exact sums.
//!
//! A run holds at most [`BLOCK`] points. When its values and step offsets are small enough (nearly
//! always), every product and sum fits a `u64` lane relative to the run's minimum, so the loops below
//! vectorise; the totals are then re-centred into the bucket's `i128` sums exactly. Runs that span a
//! wild range (an explosion, steps a billion apart) take the exact `i128` path point by point. Both
//! paths give the same integers.

use super::bucket::Bucket;

/// Points gathered and quantised together.
pub const BLOCK: usize = 256;
/// Fast path bounds: range of yq within the run and of step offsets (each < 2^27 keeps every lane
/// sum of BLOCK products below 2^63).
const FAST_RANGE: i64 = 1 << 27;
const FAST_OFFSET: u64 = 1 << 27;

/// Fold the run `(ts[i], ys[i])` into `b`, whose first step is `lo`. Differences between consecutive
/// points of the run are included; the one linking the run to earlier points is the caller's.
pub fn fold_run(b: &mut Bucket, lo: u64, ts: &[u64], ys: &[i64]) {
    let m = ys.len();
    if m == 0 {
        return;
    }
    let (ymin, ymax) = extremes(ys);
    let t0 = ts[0];
    let span = ts[m - 1] - t0;
    if ymax - ymin < FAST_RANGE && span < FAST_OFFSET && m <= BLOCK {
        fold_fast(b, lo, ts, ys, ymin);
    } else {
        fold_exact(b, lo, ts, ys);
    }
    b.ymin = b.ymin.min(ymin);
    b.ymax = b.ymax.max(ymax);
    b.t_first = b.t_first.min(t0);
    b.t_last = b.t_last.max(ts[m - 1]);
}

/// Lane sums of one run relative to its minimum `r` and first step: Σc, Σc², Σk, Σk², Σkc over
/// points, and Σd², max d, min d, sign changes over consecutive differences d.
#[derive(Default, Clone, Copy)]
pub struct RunSums {
    s1: u64,
    s2: u64,
    sk: u64,
    skk: u64,
    skc: u64,
    sdd: u64,
    dmax: i64,
    dmin: i64,
    nsc: u64,
}

/// Every value is below 2^27 here (checked by the caller), so 32x32->64-bit products suffice and
/// the loops vectorise on any x86-64.
#[inline(always)]
fn run_sums_body(ts: &[u64], ys: &[i64], r: i64) -> RunSums {
    let m = ys.len();
    let t0 = ts[0];
    let mut o = RunSums { dmax: i64::MIN, dmin: i64::MAX, ..RunSums::default() };
    for (&y, &t) in ys.iter().zip(ts) {
        let c = (y - r) as u32 as u64;
        let k = (t - t0) as u32 as u64;
        o.s1 += c;
        o.s2 += c * c;
        o.sk += k;
        o.skk += k * k;
        o.skc += k * c;
    }
    if m >= 2 {
        for (&a, &b) in ys[..m - 1].iter().zip(&ys[1..]) {
            let d = b - a;
            let ad = d.unsigned_abs() as u32 as u64;
            o.sdd += ad * ad;
            o.dmax = o.dmax.max(d);
            o.dmin = o.dmin.min(d);
        }
    }
    if m >= 3 {
        for ((&a, &b), &c) in ys[..m - 2].iter().zip(&ys[1..m - 1]).zip(&ys[2..]) {
            let (d1, d2) = ((b > a) as i64 - (b < a) as i64, (c > b) as i64 - (c < b) as i64);
            o.nsc += (d1 * d2 < 0) as u64;
        }
    }
    o
}

#[inline(always)]
fn extremes_body(ys: &[i64]) -> (i64, i64) {
    ys.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &y| (lo.min(y), hi.max(y)))
}

super::simd::dispatch! {
    /// Smallest and largest of `ys`.
    pub fn extremes(ys: &[i64]) -> (i64, i64) = extremes_body;
}

super::simd::dispatch! {
    /// [`run_sums_body`] compiled for the widest vector unit available.
    pub fn run_sums(ts: &[u64], ys: &[i64], r: i64) -> RunSums = run_sums_body;
}

fn fold_fast(b: &mut Bucket, lo: u64, ts: &[u64], ys: &[i64], r: i64) {
    let m = ys.len();
    let t0 = ts[0];
    let o = run_sums(ts, ys, r);
    let (mi, r, off) = (m as i128, r as i128, (t0 - lo) as i128);
    let (s1, sk) = (o.s1 as i128, o.sk as i128);
    b.n += m as u64;
    b.sy += s1 + mi * r;
    b.syy += o.s2 as i128 + 2 * r * s1 + mi * r * r;
    b.st += sk + mi * off;
    b.stt = b.stt.wrapping_add(o.skk as i128 + 2 * off * sk + mi * off * off);
    b.sty = b.sty.wrapping_add(o.skc as i128 + r * sk + off * s1 + mi * off * r);
    if m >= 2 {
        b.nd += (m - 1) as u64;
        b.sd += (ys[m - 1] - ys[0]) as i128;
        b.sdd += o.sdd as i128;
        b.npair += m.saturating_sub(2) as u64;
        b.nsc += o.nsc;
        b.dmin = b.dmin.min(o.dmin);
        if o.dmax > b.dmax {
            // Only now find where the largest rise lands (first occurrence): rare after a few runs.
            if let Some(i) = ys.windows(2).position(|w| w[1] - w[0] == o.dmax) {
                b.note_rise(o.dmax, ts[i + 1]);
            }
        }
    }
}

fn fold_exact(b: &mut Bucket, lo: u64, ts: &[u64], ys: &[i64]) {
    let mut prev: Option<(i64, Option<i64>)> = None;
    for (&y, &t) in ys.iter().zip(ts) {
        add_point_sums(b, lo, t, y);
        if let Some((py, pd)) = prev {
            let d = y - py;
            b.add_delta(d, t, pd);
            prev = Some((y, Some(d)));
        } else {
            prev = Some((y, None));
        }
    }
}

/// The point sums of one point (no differences), exactly.
#[inline]
pub fn add_point_sums(b: &mut Bucket, lo: u64, t: u64, y: i64) {
    let k = (t - lo) as i128;
    let y = y as i128;
    b.n += 1;
    b.sy += y;
    b.syy += y * y;
    b.st += k;
    b.stt = b.stt.wrapping_add(k.wrapping_mul(k));
    b.sty = b.sty.wrapping_add(k.wrapping_mul(y));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_and_exact_paths_agree() {
        let ts: Vec<u64> = (0..200).map(|i| 1000 + 3 * i * i / 7 + i).collect();
        let ys: Vec<i64> = (0..200).map(|i| 40_000_000 + ((i * 7919) % 1013) as i64 * 1000 - (i as i64) * 37).collect();
        let mut a = Bucket::empty(0);
        let mut e = Bucket::empty(0);
        fold_fast(&mut a, 900, &ts, &ys, *ys.iter().min().unwrap());
        fold_exact(&mut e, 900, &ts, &ys);
        assert_eq!(a, e);
    }
}
