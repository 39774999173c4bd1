//! Medians and p90 of a set of durations.

use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median: Duration,
    pub p90: Duration,
}

/// Median (mean of the middle two for an even count) and nearest-rank p90.
pub fn summarize(samples: &[Duration]) -> Summary {
    let mut v = samples.to_vec();
    v.sort();
    let n = v.len();
    if n == 0 {
        return Summary {
            median: Duration::ZERO,
            p90: Duration::ZERO,
        };
    }
    let median = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    };
    let rank = (n * 9).div_ceil(10).max(1);
    Summary {
        median,
        p90: v[rank - 1],
    }
}

/// `a / b` of two medians.
pub fn ratio(a: Duration, b: Duration) -> f64 {
    if b.is_zero() {
        return f64::NAN;
    }
    a.as_secs_f64() / b.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|&x| Duration::from_millis(x)).collect()
    }

    #[test]
    fn median_and_p90() {
        let s = summarize(&ms(&[5, 1, 3, 2, 4]));
        assert_eq!(s.median, Duration::from_millis(3));
        assert_eq!(s.p90, Duration::from_millis(5));
        let s = summarize(&ms(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
        assert_eq!(s.median, Duration::from_micros(5500));
        assert_eq!(s.p90, Duration::from_millis(9));
    }
}
