//! A deterministic event queue: events ordered by (time, sequence number), so
//! events due at the same instant come out in the order they were scheduled
//! and every run with the same inputs is identical.

use core::cmp::Ordering;
use std::collections::BinaryHeap;
use via6_core::time::Instant;

struct Entry<E> {
    at: Instant,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.at == other.at && self.seq == other.seq
    }
}

impl<E> Eq for Entry<E> {}

impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<E> Ord for Entry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

/// Events of type `E`, each due at an instant; ties are FIFO.
pub struct Scheduler<E> {
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Scheduler<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Scheduler { heap: BinaryHeap::new(), seq: 0 }
    }

    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: Instant, event: E) {
        let seq = self.seq;
        self.seq += 1;
        self.heap.push(Entry { at, seq, event });
    }

    /// When the earliest event is due.
    pub fn next_time(&self) -> Option<Instant> {
        self.heap.peek().map(|e| e.at)
    }

    /// Removes and returns the earliest event if it is due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, E)> {
        if self.heap.peek()?.at > now {
            return None;
        }
        self.heap.pop().map(|e| (e.at, e.event))
    }

    /// Removes and returns the earliest event, due or not.
    pub fn pop(&mut self) -> Option<(Instant, E)> {
        self.heap.pop().map(|e| (e.at, e.event))
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_order_then_fifo() {
        let mut s = Scheduler::new();
        s.push(Instant::from_millis(2), "c");
        s.push(Instant::from_millis(1), "a");
        s.push(Instant::from_millis(2), "d");
        s.push(Instant::from_millis(1), "b");
        assert_eq!(s.len(), 4);
        assert_eq!(s.next_time(), Some(Instant::from_millis(1)));
        assert_eq!(s.pop_due(Instant::ZERO), None);
        let mut out = Vec::new();
        while let Some((_, e)) = s.pop_due(Instant::from_millis(1)) {
            out.push(e);
        }
        assert_eq!(out, ["a", "b"]);
        assert_eq!(s.pop(), Some((Instant::from_millis(2), "c")));
        assert_eq!(s.pop(), Some((Instant::from_millis(2), "d")));
        assert!(s.is_empty());
    }

    #[test]
    fn many_ties_stay_fifo() {
        let mut s = Scheduler::new();
        for i in 0..1000 {
            s.push(Instant::from_nanos(7), i);
        }
        for i in 0..1000 {
            assert_eq!(s.pop().map(|(_, e)| e), Some(i));
        }
    }
}
