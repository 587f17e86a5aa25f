//! Finding which interval of a short sorted list a step falls in, without branches, so the search
//! vectorises with the rest of a kernel.

/// Up to `N` sorted breakpoints, padded with `+inf` (never `<=` or `<` a finite step).
#[derive(Debug, Clone, Copy)]
pub struct Breaks<const N: usize> {
    at: [f64; N],
}

impl<const N: usize> Breaks<N> {
    /// `None` if there are more than `N` breakpoints.
    pub fn new(sorted: &[f64]) -> Option<Self> {
        if sorted.len() > N {
            return None;
        }
        let mut at = [f64::INFINITY; N];
        at[..sorted.len()].copy_from_slice(sorted);
        Some(Breaks { at })
    }

    /// How many breakpoints are `<= t` (`partition_point(|&b| b <= t)`).
    #[inline(always)]
    pub fn count_le(&self, t: f64) -> usize {
        self.count(|b| b <= t)
    }

    /// How many breakpoints are `< t` (`partition_point(|&b| b < t)`).
    #[inline(always)]
    pub fn count_lt(&self, t: f64) -> usize {
        self.count(|b| b < t)
    }

    /// The length of the sorted prefix where `below` holds: a linear count for a few breakpoints, a
    /// binary search with a fixed number of halvings (N is a power of two) for more.
    #[inline(always)]
    fn count(&self, below: impl Fn(f64) -> bool) -> usize {
        if N <= 8 {
            return self.at.iter().map(|&b| below(b) as usize).sum();
        }
        let mut pos = 0;
        let mut step = N / 2;
        while step > 0 {
            if below(self.at[pos + step - 1]) {
                pos += step;
            }
            step /= 2;
        }
        // The halvings reach at most N - 1; the count is that or one more.
        pos + below(self.at[pos.min(N - 1)]) as usize
    }
}

/// A fixed-size table indexed by a search result: `N + 1` entries so any count is in bounds.
#[derive(Debug, Clone, Copy)]
pub struct Table<const M: usize> {
    pub v: [f64; M],
}

impl<const M: usize> Table<M> {
    /// `values` padded with copies of its last entry (or zeros when empty).
    pub fn new(values: &[f64]) -> Self {
        let mut v = [values.last().copied().unwrap_or(0.0); M];
        let n = values.len().min(M);
        v[..n].copy_from_slice(&values[..n]);
        Table { v }
    }

    /// Entry `i`, clamped into the table (the clamp also lets the compiler drop the bounds check).
    /// Small tables select without memory lookups (vector gathers are slower than a few blends).
    #[inline(always)]
    pub fn get(&self, i: usize) -> f64 {
        if M <= 8 {
            let mut v = self.v[0];
            for k in 1..M {
                if i >= k {
                    v = self.v[k];
                }
            }
            return v;
        }
        self.v[i.min(M - 1)]
    }
}

/// Run `$body` with `$b` bound to a `Breaks` of the smallest size (4, 16 or 64) that holds
/// `$sorted`, and `$t` to a `Table` size one larger; `$otherwise` when there are more than 64.
macro_rules! with_breaks {
    ($sorted:expr, |$b:ident, $t:ident| $body:expr, $otherwise:expr) => {{
        use $crate::schedule::batch::search::{Breaks, Table};
        let sorted: &[f64] = $sorted;
        if let Some($b) = Breaks::<4>::new(sorted) {
            #[allow(unused)]
            let $t = |v: &[f64]| Table::<5>::new(v);
            $body
        } else if let Some($b) = Breaks::<16>::new(sorted) {
            #[allow(unused)]
            let $t = |v: &[f64]| Table::<17>::new(v);
            $body
        } else if let Some($b) = Breaks::<64>::new(sorted) {
            #[allow(unused)]
            let $t = |v: &[f64]| Table::<65>::new(v);
            $body
        } else {
            $otherwise
        }
    }};
}
pub(crate) use with_breaks;
