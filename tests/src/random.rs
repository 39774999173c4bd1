//! Non-cryptographic randomness for ids, addresses and request ids. std's `RandomState` is
//! seeded from the OS, which is all a test lab needs (no extra crate, no I/O that can fail).

use std::hash::{BuildHasher, Hasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn u64() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.finish()
}

/// `n` lowercase hex digits.
pub fn hex(n: usize) -> String {
    let mut s = String::with_capacity(n + 16);
    while s.len() < n {
        s.push_str(&format!("{:016x}", u64()));
    }
    s.truncate(n);
    s
}

/// A version-4 UUID string, as AWS uses for request ids.
pub fn uuid() -> String {
    let h = hex(32);
    let variant = ["8", "9", "a", "b"][(u64() % 4) as usize];
    format!(
        "{}-{}-4{}-{}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        variant,
        &h[17..20],
        &h[20..32]
    )
}

/// Uniform-ish value in `lo..=hi`.
pub fn range(lo: u64, hi: u64) -> u64 {
    lo + u64() % (hi - lo + 1)
}
