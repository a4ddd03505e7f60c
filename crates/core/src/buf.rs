//! Packet buffers with link-layer headroom, recycled through a pool so the
//! steady-state forwarding path allocates nothing.

/// Room kept in front of the IP header for a link-layer header (Ethernet II).
pub const HEADROOM: usize = 14;

/// A packet under construction or in flight: `data[start..end]` is live.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacketBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl PacketBuf {
    /// The live bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// The live bytes, mutably.
    #[inline]
    pub fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.data[self.start..self.end]
    }

    /// Length of the live bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether no bytes are live.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// Grows the live region `n` bytes to the front (into the headroom) and
    /// returns those bytes; `None` without room.
    pub fn prepend(&mut self, n: usize) -> Option<&mut [u8]> {
        let start = self.start.checked_sub(n)?;
        self.start = start;
        Some(&mut self.data[start..start + n])
    }

    /// Writes a link-layer header of exactly [`HEADROOM`] bytes in front of
    /// the live bytes; `false` (nothing changed) without room for it.
    #[inline]
    pub fn prepend_header(&mut self, h: &[u8; HEADROOM]) -> bool {
        match self.start.checked_sub(HEADROOM).and_then(|s| Some((s, self.data.get_mut(s..s + HEADROOM)?))) {
            Some((s, room)) => {
                room.copy_from_slice(h);
                self.start = s;
                true
            }
            None => false,
        }
    }

    /// Drops `n` bytes from the front (e.g. a link header after input).
    pub fn advance(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Shortens the live region to `len` bytes.
    #[inline]
    pub fn truncate(&mut self, len: usize) {
        self.end = self.start + len.min(self.len());
    }
}

/// A free list of buffers.
#[derive(Debug, Default)]
pub struct BufPool {
    free: Vec<Vec<u8>>,
    /// Buffers kept at most (the rest are dropped on return).
    keep: usize,
}

impl BufPool {
    /// A pool keeping up to `keep` buffers.
    pub fn new(keep: usize) -> Self {
        BufPool { free: Vec::new(), keep }
    }

    /// A buffer whose live region is `len` zero-initialised... or reused
    /// bytes: callers overwrite all `len` bytes. Headroom precedes it.
    pub fn get(&mut self, len: usize) -> PacketBuf {
        let mut data = self.free.pop().unwrap_or_default();
        let need = HEADROOM + len;
        if data.len() < need {
            data.resize(need, 0);
        }
        PacketBuf { data, start: HEADROOM, end: need }
    }

    /// A buffer holding a copy of `bytes`.
    #[inline]
    pub fn copy_of(&mut self, bytes: &[u8]) -> PacketBuf {
        let mut data = self.free.pop().unwrap_or_default();
        let need = HEADROOM + bytes.len();
        if data.len() < need {
            data.resize(need, 0);
        }
        if let Some(live) = data.get_mut(HEADROOM..need) {
            live.copy_from_slice(bytes);
        }
        PacketBuf { data, start: HEADROOM, end: need }
    }

    /// Returns a buffer for reuse.
    #[inline]
    pub fn put(&mut self, buf: PacketBuf) {
        if self.free.len() < self.keep {
            self.free.push(buf.data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headroom_and_recycling() {
        let mut pool = BufPool::new(4);
        let mut b = pool.copy_of(&[1, 2, 3]);
        assert_eq!(b.bytes(), &[1, 2, 3]);
        b.prepend(HEADROOM).unwrap().fill(9);
        assert_eq!(b.len(), HEADROOM + 3);
        assert!(b.prepend(1).is_none());
        b.advance(HEADROOM);
        b.truncate(2);
        assert_eq!(b.bytes(), &[1, 2]);
        pool.put(b);
        let c = pool.get(5);
        assert_eq!(c.len(), 5);
    }
}
