//! errno-like errors of socket and control calls, convertible to
//! `std::io::Error` with the matching `ErrorKind`.

use core::fmt;
use std::borrow::Cow;

/// The error numbers the stack returns (FreeBSD names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Errno {
    /// No route to host, or the neighbour did not answer.
    EHOSTUNREACH,
    /// Network unreachable (no route at all).
    ENETUNREACH,
    /// No usable source address / address not local.
    EADDRNOTAVAIL,
    /// Address already in use.
    EADDRINUSE,
    /// Connection refused (RST or ICMP port unreachable).
    ECONNREFUSED,
    /// Connection reset by peer.
    ECONNRESET,
    /// Message too long (larger than the path MTU with DF).
    EMSGSIZE,
    /// Invalid argument (e.g. link-local without a zone).
    EINVAL,
    /// Operation would block.
    EWOULDBLOCK,
    /// No buffer space (queue full).
    ENOBUFS,
    /// Not connected.
    ENOTCONN,
    /// Already connected.
    EISCONN,
    /// Timed out.
    ETIMEDOUT,
    /// Address family not supported for this operation.
    EAFNOSUPPORT,
    /// Operation not permitted (e.g. reject route, admin prohibited).
    EACCES,
    /// No such entry (route, neighbour, interface).
    ESRCH,
    /// Entry exists.
    EEXIST,
    /// Network is down.
    ENETDOWN,
}

impl Errno {
    /// The nearest `std::io::ErrorKind`.
    pub fn kind(&self) -> std::io::ErrorKind {
        use std::io::ErrorKind as K;
        match self {
            Errno::EHOSTUNREACH => K::HostUnreachable,
            Errno::ENETUNREACH => K::NetworkUnreachable,
            Errno::EADDRNOTAVAIL => K::AddrNotAvailable,
            Errno::EADDRINUSE => K::AddrInUse,
            Errno::ECONNREFUSED => K::ConnectionRefused,
            Errno::ECONNRESET => K::ConnectionReset,
            Errno::EMSGSIZE => K::InvalidInput,
            Errno::EINVAL => K::InvalidInput,
            Errno::EWOULDBLOCK => K::WouldBlock,
            Errno::ENOBUFS => K::OutOfMemory,
            Errno::ENOTCONN => K::NotConnected,
            Errno::EISCONN => K::AlreadyExists,
            Errno::ETIMEDOUT => K::TimedOut,
            Errno::EAFNOSUPPORT => K::Unsupported,
            Errno::EACCES => K::PermissionDenied,
            Errno::ESRCH => K::NotFound,
            Errno::EEXIST => K::AlreadyExists,
            Errno::ENETDOWN => K::NetworkDown,
        }
    }

    /// strerror(3) text as FreeBSD prints it.
    pub fn text(&self) -> &'static str {
        match self {
            Errno::EHOSTUNREACH => "No route to host",
            Errno::ENETUNREACH => "Network is unreachable",
            Errno::EADDRNOTAVAIL => "Can't assign requested address",
            Errno::EADDRINUSE => "Address already in use",
            Errno::ECONNREFUSED => "Connection refused",
            Errno::ECONNRESET => "Connection reset by peer",
            Errno::EMSGSIZE => "Message too long",
            Errno::EINVAL => "Invalid argument",
            Errno::EWOULDBLOCK => "Resource temporarily unavailable",
            Errno::ENOBUFS => "No buffer space available",
            Errno::ENOTCONN => "Socket is not connected",
            Errno::EISCONN => "Socket is already connected",
            Errno::ETIMEDOUT => "Operation timed out",
            Errno::EAFNOSUPPORT => "Address family not supported by protocol family",
            Errno::EACCES => "Permission denied",
            Errno::ESRCH => "No such process",
            Errno::EEXIST => "File exists",
            Errno::ENETDOWN => "Network is down",
        }
    }
}

/// An errno with a sentence saying why, e.g. "no IPv4 source address: the node
/// has no usable IPv4 address".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackError {
    /// The error number.
    pub errno: Errno,
    /// Why, for humans (a fixed sentence is not copied: a nonblocking
    /// call that would block allocates nothing to say so).
    pub reason: Cow<'static, str>,
}

impl StackError {
    /// An error with a reason.
    pub fn new(errno: Errno, reason: impl Into<Cow<'static, str>>) -> Self {
        StackError { errno, reason: reason.into() }
    }
}

/// A [`StackError`] (the socket calls' shorthand).
pub(crate) fn bad(errno: Errno, why: impl Into<Cow<'static, str>>) -> StackError {
    StackError::new(errno, why)
}

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({}): {}", self.errno, self.errno.text(), self.reason)
    }
}

impl std::error::Error for StackError {}

impl From<StackError> for std::io::Error {
    fn from(e: StackError) -> Self {
        std::io::Error::new(e.errno.kind(), e.to_string())
    }
}

/// Result of stack calls.
pub type StackResult<T> = Result<T, StackError>;

#[cfg(test)]
mod tests {
    use super::*;

    /// A call that would block says so without allocating: the socket
    /// calls build their errors from fixed sentences (`with_tcb` from
    /// [`Errno::text`]), which the error borrows.
    #[test]
    fn fixed_reasons_are_borrowed_not_copied() {
        let e = bad(Errno::EWOULDBLOCK, Errno::EWOULDBLOCK.text());
        assert!(matches!(e.reason, Cow::Borrowed(_)));
        let owned = bad(Errno::EINVAL, format!("bad port {}", 0));
        assert!(matches!(owned.reason, Cow::Owned(_)));
        assert_eq!(owned.to_string(), "EINVAL (Invalid argument): bad port 0");
    }
}
