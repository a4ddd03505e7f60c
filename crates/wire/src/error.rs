//! The one error type of the wire layer.
//!
//! Every parser returns a typed [`Error`] instead of panicking; the core counts
//! each drop by its variant (`netstat -s`). The `&'static str` payloads name the
//! offending field so a log line or a test can say exactly what was wrong.

use core::fmt;

/// Why a byte buffer is not a valid packet of some format, or why a repr could
/// not be emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// The buffer ends before the fixed header, or before the end that a length
    /// field declares.
    Truncated,
    /// A version field holds a value this view does not parse (e.g. IPv4 view
    /// over an IPv6 packet).
    BadVersion,
    /// A length field contradicts the format: IHL < 5, a TCP data offset < 5, an
    /// IPv6 payload length that lies, an option length of 0 or one that overflows.
    BadLength(&'static str),
    /// A field holds a value the format forbids.
    BadField(&'static str),
    /// An option (IPv4, TCP, ND, extension-header TLV) is malformed.
    BadOption(&'static str),
    /// The checksum does not verify.
    BadChecksum,
    /// The format is recognised but this field value is not supported (kept apart
    /// from `BadField` so callers can answer with an ICMP error instead of a drop).
    Unsupported(&'static str),
    /// The output buffer given to an `emit` is too small for the repr.
    BufferTooSmall,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("truncated packet"),
            Error::BadVersion => f.write_str("wrong IP version"),
            Error::BadLength(field) => write!(f, "bad length field `{field}`"),
            Error::BadField(field) => write!(f, "bad value in field `{field}`"),
            Error::BadOption(field) => write!(f, "malformed option `{field}`"),
            Error::BadChecksum => f.write_str("bad checksum"),
            Error::Unsupported(field) => write!(f, "unsupported value in field `{field}`"),
            Error::BufferTooSmall => f.write_str("output buffer too small"),
        }
    }
}

impl std::error::Error for Error {}

/// Result of wire-layer operations.
pub type Result<T> = core::result::Result<T, Error>;
