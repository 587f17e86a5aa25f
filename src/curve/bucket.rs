//! One time bucket: exact, mergeable sums over the points whose step falls in `[lo, lo + 2^level)`.
//!
//! Sums of the quantised log-loss `yq` (see [`super::quant`]) and of step offsets `t - lo` are held in
//! `i128`, so adding two partial buckets is exact and associative: the state after any chunking or
//! merge order is bit-identical. Offsets from the bucket start keep the step sums small ("centred")
//! however large the step numbers get. Extremes merge by min/max with ties broken by the earlier step.

/// Exact sums and extremes of the points in one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Index at the current level: the bucket covers steps `[idx << level, (idx + 1) << level)`.
    pub idx: u64,
    /// Finite points.
    pub n: u64,
    /// Σ yq, Σ yq².
    pub sy: i128,
    pub syy: i128,
    /// Σ (t - lo), Σ (t - lo)², Σ (t - lo) yq.
    pub st: i128,
    pub stt: i128,
    pub sty: i128,
    /// First differences between consecutive finite points, counted at the later point: count, Σ Δ, Σ Δ².
    pub nd: u64,
    pub sd: i128,
    pub sdd: i128,
    /// Pairs of consecutive differences (counted at the later point) and how many change sign.
    pub npair: u64,
    pub nsc: u64,
    /// Extremes of yq.
    pub ymin: i64,
    pub ymax: i64,
    /// Largest rise Δ (a spike's or an explosion's onset) and the step it lands on.
    pub dmax: i64,
    pub t_dmax: u64,
    /// Largest fall (a spike's recovery).
    pub dmin: i64,
    /// First and last step holding a finite point.
    pub t_first: u64,
    pub t_last: u64,
    /// Non-finite points (NaN, ±Inf) and the first step holding one.
    pub nbad: u64,
    pub t_bad: u64,
    /// Points with an LR, extremes of the LR, and Σ round(ln(lr) * Q) over those with lr > 0.
    pub nlr: u64,
    pub nlr_pos: u64,
    pub lr_min: f64,
    pub lr_max: f64,
    pub slr: i128,
}

impl Bucket {
    pub fn empty(idx: u64) -> Self {
        Bucket {
            idx,
            n: 0,
            sy: 0,
            syy: 0,
            st: 0,
            stt: 0,
            sty: 0,
            nd: 0,
            sd: 0,
            sdd: 0,
            npair: 0,
            nsc: 0,
            ymin: i64::MAX,
            ymax: i64::MIN,
            dmax: i64::MIN,
            t_dmax: u64::MAX,
            dmin: i64::MAX,
            t_first: u64::MAX,
            t_last: 0,
            nbad: 0,
            t_bad: u64::MAX,
            nlr: 0,
            nlr_pos: 0,
            lr_min: f64::INFINITY,
            lr_max: f64::NEG_INFINITY,
            slr: 0,
        }
    }

    /// Re-express the step sums relative to a bucket start `off` steps earlier (exact).
    pub fn shift(&mut self, off: u64) {
        if off == 0 {
            return;
        }
        let off = off as i128;
        let n = self.n as i128;
        self.stt = self.stt.wrapping_add(2i128.wrapping_mul(off).wrapping_mul(self.st)).wrapping_add(n.wrapping_mul(off).wrapping_mul(off));
        self.st = self.st.wrapping_add(n.wrapping_mul(off));
        self.sty = self.sty.wrapping_add(off.wrapping_mul(self.sy));
    }

    /// Fold `other` (same index and level, disjoint points) into `self`.
    pub fn absorb(&mut self, o: &Bucket) {
        self.n += o.n;
        self.sy += o.sy;
        self.syy += o.syy;
        self.st += o.st;
        self.stt = self.stt.wrapping_add(o.stt);
        self.sty = self.sty.wrapping_add(o.sty);
        self.nd += o.nd;
        self.sd += o.sd;
        self.sdd += o.sdd;
        self.npair += o.npair;
        self.nsc += o.nsc;
        self.ymin = self.ymin.min(o.ymin);
        self.ymax = self.ymax.max(o.ymax);
        self.note_rise(o.dmax, o.t_dmax);
        self.dmin = self.dmin.min(o.dmin);
        self.t_first = self.t_first.min(o.t_first);
        self.t_last = self.t_last.max(o.t_last);
        self.nbad += o.nbad;
        self.t_bad = self.t_bad.min(o.t_bad);
        self.nlr += o.nlr;
        self.nlr_pos += o.nlr_pos;
        self.lr_min = self.lr_min.min(o.lr_min);
        self.lr_max = self.lr_max.max(o.lr_max);
        self.slr += o.slr;
    }

    /// Record a rise `d` landing on step `t` if it is the largest (ties: the earlier step).
    #[inline]
    pub fn note_rise(&mut self, d: i64, t: u64) {
        if d > self.dmax || (d == self.dmax && t < self.t_dmax) {
            self.dmax = d;
            self.t_dmax = t;
        }
    }

    /// Record one first difference `d` landing on step `t`, and whether it changed sign from the last.
    pub fn add_delta(&mut self, d: i64, t: u64, prev: Option<i64>) {
        self.nd += 1;
        self.sd += d as i128;
        self.sdd += (d as i128) * (d as i128);
        self.note_rise(d, t);
        self.dmin = self.dmin.min(d);
        if let Some(p) = prev {
            self.npair += 1;
            self.nsc += sign_change(p, d) as u64;
        }
    }

    /// Count the sign change between the difference before this bucket's first one and that first
    /// one (used when stitching two pieces together).
    pub fn add_pair(&mut self, prev: i64, d: i64) {
        self.npair += 1;
        self.nsc += sign_change(prev, d) as u64;
    }

    /// The bucket's first step at `level`.
    pub fn lo(&self, level: u32) -> u64 {
        self.idx << level
    }
}

#[inline(always)]
pub fn sign_change(a: i64, b: i64) -> bool {
    (a > 0 && b < 0) || (a < 0 && b > 0)
}

/// Coarsen a sorted bucket list by one level: aligned pairs `(2j, 2j + 1)` become bucket `j`.
pub fn coarsen(buckets: &mut Vec<Bucket>, level: u32) {
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len() / 2 + 1);
    for b in buckets.iter() {
        let mut child = *b;
        if child.idx & 1 == 1 {
            child.shift(1u64 << level);
        }
        child.idx >>= 1;
        match out.last_mut() {
            Some(last) if last.idx == child.idx => last.absorb(&child),
            _ => out.push(child),
        }
    }
    *buckets = out;
}
