//! Packet buffers with link-layer headroom, recycled through a pool so the
//! steady-state forwarding path allocates nothing.

use via6_wire::MacAddr;

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

    /// Writes an untagged Ethernet II header (RFC 894: destination,
    /// source, EtherType; [`HEADROOM`] bytes) in front of the live bytes,
    /// field by field straight into the headroom (a header assembled
    /// elsewhere and copied in was read back in other widths than it was
    /// written: a store-forwarding stall per frame); `false` (nothing
    /// changed) without room for it.
    #[inline]
    pub fn prepend_ethernet(&mut self, dst: &MacAddr, src: &MacAddr, ethertype: u16) -> bool {
        let Some(s) = self.start.checked_sub(HEADROOM) else { return false };
        let Some(room) = self.data.get_mut(s..s + HEADROOM) else { return false };
        room[0..6].copy_from_slice(&dst.0);
        room[6..12].copy_from_slice(&src.0);
        room[12..14].copy_from_slice(&ethertype.to_be_bytes());
        self.start = s;
        true
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

/// A FIFO of frames waiting to be sent: a vector and a read index, emptied
/// whenever it drains (the usual case: a driver takes every frame after each
/// call) and compacted when the consumed front grows — so a push is a
/// vector push and a pop a slot take, both inline (a `VecDeque` push is an
/// out-of-line call with index wrapping).
#[derive(Debug)]
pub struct FrameQueue<T> {
    slots: Vec<Option<T>>,
    head: usize,
}

impl<T> Default for FrameQueue<T> {
    fn default() -> Self {
        FrameQueue { slots: Vec::new(), head: 0 }
    }
}

impl<T> FrameQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Frames queued.
    #[inline]
    pub fn len(&self) -> usize {
        self.slots.len() - self.head
    }

    /// Whether no frame is queued.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a frame at the back.
    #[inline]
    pub fn push_back(&mut self, frame: T) {
        self.slots.push(Some(frame));
    }

    /// The queued frames, front first.
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots[self.head..].iter().flatten()
    }

    /// Empties the queue, handing each frame to `f`, front first.
    pub fn drain_each(&mut self, mut f: impl FnMut(T)) {
        for frame in self.slots.drain(self.head..).flatten() {
            f(frame);
        }
        self.slots.clear();
        self.head = 0;
    }

    /// The frame at the front.
    #[inline]
    pub fn front(&self) -> Option<&T> {
        self.slots.get(self.head)?.as_ref()
    }

    /// Takes the frame at the front.
    #[inline]
    pub fn pop_front(&mut self) -> Option<T> {
        let frame = self.slots.get_mut(self.head)?.take();
        self.head += 1;
        if self.head == self.slots.len() {
            self.slots.clear();
            self.head = 0;
        } else if self.head >= 64 && self.head * 2 >= self.slots.len() {
            // Never drained: drop the consumed front (amortised O(1)).
            self.slots.drain(..self.head);
            self.head = 0;
        }
        frame
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

    #[test]
    fn frame_queue_is_fifo_and_bounded_by_its_contents() {
        let mut q = FrameQueue::new();
        assert_eq!(q.pop_front(), None);
        // Interleaved: never empty, so the front must be compacted.
        let (mut next_in, mut next_out) = (0u32, 0u32);
        for round in 0..10_000u32 {
            for _ in 0..(1 + round % 3) {
                q.push_back(next_in);
                next_in += 1;
            }
            for _ in 0..(1 + (round + 1) % 3) {
                if q.len() > 1 {
                    assert_eq!(q.pop_front(), Some(next_out));
                    next_out += 1;
                }
            }
            assert_eq!(q.len() as u32, next_in - next_out);
            assert!(q.slots.len() <= 2 * q.len() + 64, "consumed slots pile up: {}", q.slots.len());
        }
        while let Some(x) = q.pop_front() {
            assert_eq!(x, next_out);
            next_out += 1;
        }
        assert_eq!((next_out, q.len(), q.is_empty(), q.slots.len()), (next_in, 0, true, 0));
    }
}
