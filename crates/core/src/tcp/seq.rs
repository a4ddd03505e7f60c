//! Sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4, RFC 1982-style
//! comparison): `a < b` iff `b - a` taken as a signed 32-bit number is
//! positive.

/// `a < b` in sequence space.
pub fn lt(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a <= b` in sequence space.
pub fn le(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) <= 0
}

/// `a > b` in sequence space.
pub fn gt(a: u32, b: u32) -> bool {
    lt(b, a)
}

/// `a >= b` in sequence space.
pub fn ge(a: u32, b: u32) -> bool {
    le(b, a)
}

/// The larger of two sequence numbers.
pub fn max(a: u32, b: u32) -> u32 {
    if gt(a, b) {
        a
    } else {
        b
    }
}

/// `b - a` as a distance, zero when `b` is before `a`.
pub fn dist(a: u32, b: u32) -> u32 {
    if lt(a, b) {
        b.wrapping_sub(a)
    } else {
        0
    }
}

/// Whether `x` lies in `[lo, hi)`.
pub fn in_range(lo: u32, x: u32, hi: u32) -> bool {
    le(lo, x) && lt(x, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9293 §3.4: comparisons wrap around 2^32.
    #[test]
    fn rfc9293_3_4_comparisons_wrap() {
        assert!(lt(u32::MAX, 0));
        assert!(lt(u32::MAX - 10, 5));
        assert!(gt(5, u32::MAX - 10));
        assert!(le(7, 7) && ge(7, 7));
        assert!(!lt(7, 7));
        assert_eq!(dist(u32::MAX, 4), 5);
        assert_eq!(dist(4, u32::MAX), 0);
        assert!(in_range(u32::MAX, 0, 2));
        assert!(!in_range(u32::MAX, 2, 2));
        assert_eq!(max(u32::MAX, 1), 1);
    }
}
