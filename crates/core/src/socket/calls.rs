//! The socket calls: socket, bind, connect, setsockopt-like options, close.
//! Errors follow FreeBSD: EADDRNOTAVAIL for a non-local address, EADDRINUSE
//! for a conflicting bind, EINVAL for a link-local address without a scope
//! id or a mapped address on a V6ONLY socket, EAFNOSUPPORT for a family
//! mismatch.

use super::bind::{overlaps, Coverage};
use super::{Family, LocalAddr, Proto, Socket, SocketHandle, DEFAULT_RCVBUF, EPHEMERAL};
use crate::addr::{self, IfIndex};
use crate::errno::{bad, Errno, StackResult};
use crate::stack::Stack;
use crate::sysctl::Knob;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

impl Stack {
    /// socket(2). AF_INET6 sockets start with IPV6_V6ONLY from
    /// `net.inet6.ip6.v6only`.
    pub fn socket(&mut self, family: Family, proto: Proto) -> SocketHandle {
        let v6only = family == Family::Inet6 && self.sysctl.on(Knob::Ip6V6Only);
        let raw = super::raw::raw_protocol(proto).map(|p| Box::new(super::raw::RawState::new(p)));
        self.sockets.insert(Socket {
            family,
            proto,
            local: None,
            remote: None,
            v6only,
            reuseaddr: false,
            reuseport: false,
            error: None,
            rx: VecDeque::new(),
            rx_bytes: 0,
            rx_limit: if raw.is_some() { super::raw::RAW_RCVBUF } else { DEFAULT_RCVBUF },
            tcb: None,
            listen: None,
            parent: None,
            tcp_opts: Default::default(),
            raw,
        })
    }

    /// The socket table.
    pub fn sockets(&self) -> &super::SocketTable {
        &self.sockets
    }

    fn sock(&self, h: SocketHandle) -> StackResult<&Socket> {
        self.sockets.get(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))
    }

    fn sock_mut(&mut self, h: SocketHandle) -> StackResult<&mut Socket> {
        self.sockets.get_mut(h).ok_or_else(|| bad(Errno::EINVAL, "no such socket"))
    }

    /// IPV6_V6ONLY; refused once bound (as on FreeBSD).
    pub fn set_v6only(&mut self, h: SocketHandle, on: bool) -> StackResult<()> {
        let s = self.sock_mut(h)?;
        if s.family != Family::Inet6 {
            return Err(bad(Errno::EINVAL, "IPV6_V6ONLY applies to AF_INET6 sockets"));
        }
        if s.local.is_some() {
            return Err(bad(Errno::EINVAL, "IPV6_V6ONLY cannot change after bind"));
        }
        s.v6only = on;
        Ok(())
    }

    /// SO_REUSEADDR.
    pub fn set_reuseaddr(&mut self, h: SocketHandle, on: bool) -> StackResult<()> {
        self.sock_mut(h)?.reuseaddr = on;
        Ok(())
    }

    /// SO_REUSEPORT.
    pub fn set_reuseport(&mut self, h: SocketHandle, on: bool) -> StackResult<()> {
        self.sock_mut(h)?.reuseport = on;
        Ok(())
    }

    /// SO_RCVBUF.
    pub fn set_rcvbuf(&mut self, h: SocketHandle, bytes: usize) -> StackResult<()> {
        self.sock_mut(h)?.rx_limit = bytes.clamp(1024, 64 << 20);
        Ok(())
    }

    /// A bind's address must be the node's own — in its zone when it has
    /// one — or unspecified; anything else is EADDRNOTAVAIL (bind(2)).
    pub(crate) fn require_local(&self, ip: IpAddr, zone: Option<IfIndex>) -> StackResult<()> {
        if ip.is_unspecified() {
            return Ok(());
        }
        let local = match zone {
            Some(z) => self.interface(z).is_some_and(|i| i.usable_addrs().any(|a| a.addr == ip)),
            None => self.is_local_address(ip),
        };
        if local {
            Ok(())
        } else {
            Err(bad(Errno::EADDRNOTAVAIL, format!("{ip} is not an address of this node")))
        }
    }

    /// Checks an address given to bind/connect/send against the socket's
    /// family and returns it with its zone (RFC 4007 §11: a scoped address
    /// needs a scope id naming an existing interface).
    pub(crate) fn check_sockaddr(
        &self,
        family: Family,
        v6only: bool,
        sa: SocketAddr,
    ) -> StackResult<(IpAddr, Option<IfIndex>)> {
        match (family, sa) {
            (Family::Inet, SocketAddr::V4(a)) => Ok((IpAddr::V4(*a.ip()), None)),
            (Family::Inet, SocketAddr::V6(_)) => {
                Err(bad(Errno::EAFNOSUPPORT, "an AF_INET socket takes IPv4 addresses"))
            }
            (Family::Inet6, SocketAddr::V4(_)) => {
                Err(bad(Errno::EAFNOSUPPORT, "an AF_INET6 socket takes IPv6 addresses (use ::ffff:a.b.c.d)"))
            }
            (Family::Inet6, SocketAddr::V6(a)) => {
                let ip = *a.ip();
                if let Some(v4) = addr::ipv4_mapped(&ip) {
                    if v6only {
                        return Err(bad(
                            Errno::EINVAL,
                            format!("{ip} is IPv4-mapped and the socket is IPV6_V6ONLY"),
                        ));
                    }
                    return Ok((IpAddr::V4(v4), None));
                }
                if addr::needs_zone(&ip) {
                    if a.scope_id() == 0 {
                        return Err(bad(
                            Errno::EINVAL,
                            format!("{ip} is link-local and needs a scope id (%interface)"),
                        ));
                    }
                    let z = IfIndex(a.scope_id());
                    if self.interface(z).is_none() {
                        return Err(bad(
                            Errno::EINVAL,
                            format!("scope id {} names no interface", a.scope_id()),
                        ));
                    }
                    return Ok((IpAddr::V6(ip), Some(z)));
                }
                Ok((IpAddr::V6(ip), None))
            }
        }
    }

    /// bind(2).
    pub fn bind(&mut self, h: SocketHandle, sa: SocketAddr) -> StackResult<()> {
        let s = self.sock(h)?;
        if s.raw.is_some() {
            return self.raw_bind(h, sa);
        }
        if s.local.is_some() {
            return Err(bad(Errno::EINVAL, "socket is already bound"));
        }
        let (family, v6only) = (s.family, s.v6only);
        let (ip, zone) = self.check_sockaddr(family, v6only, sa)?;
        self.require_local(ip, zone)?;
        // Keep the caller's form (mapped stays mapped) for getsockname.
        let addr = match (family, sa) {
            (Family::Inet6, SocketAddr::V6(a)) => IpAddr::V6(*a.ip()),
            _ => ip,
        };
        let port = if sa.port() == 0 { self.ephemeral_port(h, family, v6only, addr)? } else { sa.port() };
        self.check_conflict(h, family, v6only, addr, port)?;
        self.sockets.set_local(h, Some(LocalAddr { addr, zone, port }));
        Ok(())
    }

    fn check_conflict(
        &self,
        h: SocketHandle,
        family: Family,
        v6only: bool,
        addr: IpAddr,
        port: u16,
    ) -> StackResult<()> {
        let me = self.sock(h)?;
        let mine = Coverage::of(family, v6only, addr);
        // Only the sockets on this port can conflict (the port index); the
        // one reported is the lowest handle, as a scan of the table found.
        let mut conflict: Option<(SocketHandle, IpAddr)> = None;
        for (oh, o) in self.sockets.on_port(me.proto, port) {
            if oh == h || o.proto != me.proto {
                continue;
            }
            let (Some(ol), Some(oc)) = (o.local, o.coverage()) else { continue };
            if ol.port != port {
                continue;
            }
            let refused = match overlaps(mine, oc) {
                None => false,
                Some(_) if me.reuseport && o.reuseport => false,
                Some(true) if me.reuseaddr => false,
                Some(_) => true,
            };
            if refused && conflict.is_none_or(|(c, _)| oh < c) {
                conflict = Some((oh, ol.addr));
            }
        }
        match conflict {
            Some((_, other)) => Err(bad(
                Errno::EADDRINUSE,
                format!("port {port} is in use by another socket bound to {other}"),
            )),
            None => Ok(()),
        }
    }

    /// An ephemeral port (RFC 6056 §3.3.2: random start, then next free).
    fn ephemeral_port(
        &mut self,
        h: SocketHandle,
        family: Family,
        v6only: bool,
        addr: IpAddr,
    ) -> StackResult<u16> {
        let span = u32::from(EPHEMERAL.end() - EPHEMERAL.start()) + 1;
        if self.sockets.next_ephemeral == 0 {
            self.sockets.next_ephemeral = EPHEMERAL.start() + self.rng.below(u64::from(span)) as u16;
        }
        for _ in 0..span {
            let p = self.sockets.next_ephemeral;
            self.sockets.next_ephemeral = if p == *EPHEMERAL.end() { *EPHEMERAL.start() } else { p + 1 };
            if self.check_conflict(h, family, v6only, addr, p).is_ok() {
                return Ok(p);
            }
        }
        Err(bad(Errno::EADDRNOTAVAIL, "no ephemeral port is free"))
    }

    /// connect(2) for datagram sockets: fixes the peer and, if unbound, binds
    /// to the source that source selection picks for it (and an ephemeral
    /// port). Fails with EADDRNOTAVAIL when no source exists, naming the
    /// family.
    pub fn connect(&mut self, h: SocketHandle, sa: SocketAddr) -> StackResult<()> {
        let s = self.sock(h)?;
        if s.raw.is_some() {
            return self.raw_connect(h, sa);
        }
        let (family, v6only) = (s.family, s.v6only);
        let (ip, zone) = self.check_sockaddr(family, v6only, sa)?;
        if ip.is_unspecified() || sa.port() == 0 {
            return Err(bad(Errno::EADDRNOTAVAIL, format!("cannot connect to {sa}")));
        }
        let src = self.source_for(h, ip, zone)?;
        if self.sock(h)?.local.is_none() {
            let bind_addr = match family {
                Family::Inet6 => IpAddr::V6(match src {
                    IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                    IpAddr::V6(v6) => v6,
                }),
                Family::Inet => src,
            };
            let port = self.ephemeral_port(h, family, v6only, bind_addr)?;
            let zone = match src {
                IpAddr::V6(v6) if addr::needs_zone(&v6) => zone,
                _ => None,
            };
            self.sockets.set_local(h, Some(LocalAddr { addr: bind_addr, zone, port }));
        }
        self.sockets.set_remote(h, Some(sa));
        Ok(())
    }

    /// The source for a packet from socket `h` to `dst`: the bound address
    /// when specific, else source selection over the route.
    pub(crate) fn source_for(
        &self,
        h: SocketHandle,
        dst: IpAddr,
        zone: Option<IfIndex>,
    ) -> StackResult<IpAddr> {
        let s = self.sock(h)?;
        if let Some(l) = s.local {
            if !l.addr.is_unspecified() {
                let a = super::bind::unmap(l.addr);
                if a.is_ipv4() != dst.is_ipv4() {
                    return Err(bad(
                        Errno::EINVAL,
                        format!("socket bound to {} cannot send to {dst}", l.addr),
                    ));
                }
                return Ok(a);
            }
        }
        let lookup = self.route_lookup(dst, zone)?;
        self.select_source(dst, &lookup).map(|d| d.addr).map_err(|e| bad(Errno::EADDRNOTAVAIL, e.reason))
    }

    /// The bound address (getsockname).
    pub fn local_addr(&self, h: SocketHandle) -> StackResult<SocketAddr> {
        let l = self.sock(h)?.local.ok_or_else(|| bad(Errno::EINVAL, "socket is not bound"))?;
        Ok(match l.addr {
            IpAddr::V4(a) => SocketAddr::new(IpAddr::V4(a), l.port),
            IpAddr::V6(a) => {
                SocketAddr::V6(std::net::SocketAddrV6::new(a, l.port, 0, l.zone.map_or(0, |z| z.0)))
            }
        })
    }

    /// Takes the pending asynchronous error (SO_ERROR).
    pub fn take_error(&mut self, h: SocketHandle) -> Option<Errno> {
        self.sockets.get_mut(h)?.error.take()
    }

    /// close(2). A TCP connection closes gracefully (FIN, then the stack
    /// keeps it until CLOSED); see [`Stack::tcp_close`].
    pub fn close(&mut self, h: SocketHandle) {
        if self.sockets.get(h).is_some_and(|s| s.proto == Proto::Tcp) {
            let now = self.last_now;
            self.tcp_close(h, now);
            return;
        }
        self.sockets.remove(h);
    }
}

/// Unspecified addresses of each family, for wildcard binds.
pub fn wildcard(family: Family, port: u16) -> SocketAddr {
    match family {
        Family::Inet => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
        Family::Inet6 => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
    }
}
