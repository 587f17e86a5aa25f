//! The hot loop: fold a run of consecutive points that share one bucket into that bucket's exact sums.
//!
//! A run holds at most [`BLOCK`] points. When its values and step offsets are small enough (nearly
//! always), every product and sum fits a `u64` lane relative to the run's minimum, so the loops below
//! vectorise; the totals are then re-centred into the bucket's `i128` sums exactly. Runs that span a
//! wild range (an explosion, steps a billion apart) take the exact `i128` path point by point. Both
//! paths give the same integers.

use super::bucket::{sign_change, Bucket};

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
    let (mut ymin, mut ymax) = (i64::MAX, i64::MIN);
    for &y in ys {
        ymin = ymin.min(y);
        ymax = ymax.max(y);
    }
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

fn fold_fast(b: &mut Bucket, lo: u64, ts: &[u64], ys: &[i64], r: i64) {
    let m = ys.len();
    let t0 = ts[0];
    let (mut s1, mut s2, mut sk, mut skk, mut skc) = (0u64, 0u64, 0u64, 0u64, 0u64);
    for (&y, &t) in ys.iter().zip(ts) {
        let c = (y - r) as u64;
        let k = t - t0;
        s1 += c;
        s2 += c * c;
        sk += k;
        skk += k * k;
        skc += k * c;
    }
    let (mut sdd, mut dmax, mut dmin) = (0u64, i64::MIN, i64::MAX);
    for w in ys.windows(2) {
        let d = w[1] - w[0];
        sdd += (d * d) as u64;
        dmax = dmax.max(d);
        dmin = dmin.min(d);
    }
    let mut nsc = 0u64;
    for w in ys.windows(3) {
        nsc += sign_change(w[1] - w[0], w[2] - w[1]) as u64;
    }
    let (mi, r, o) = (m as i128, r as i128, (t0 - lo) as i128);
    let (s1, sk) = (s1 as i128, sk as i128);
    b.n += m as u64;
    b.sy += s1 + mi * r;
    b.syy += s2 as i128 + 2 * r * s1 + mi * r * r;
    b.st += sk + mi * o;
    b.stt = b.stt.wrapping_add(skk as i128 + 2 * o * sk + mi * o * o);
    b.sty = b.sty.wrapping_add(skc as i128 + r * sk + o * s1 + mi * o * r);
    if m >= 2 {
        b.nd += (m - 1) as u64;
        b.sd += (ys[m - 1] - ys[0]) as i128;
        b.sdd += sdd as i128;
        b.npair += m.saturating_sub(2) as u64;
        b.nsc += nsc;
        b.dmin = b.dmin.min(dmin);
        if dmax > b.dmax {
            // Only now find where the largest rise lands (first occurrence): rare after a few runs.
            if let Some(i) = ys.windows(2).position(|w| w[1] - w[0] == dmax) {
                b.note_rise(dmax, ts[i + 1]);
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
