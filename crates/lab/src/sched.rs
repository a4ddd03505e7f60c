//! A deterministic event queue: events ordered by (time, sequence number), so
//! events due at the same instant come out in the order they were scheduled
//! and every run with the same inputs is identical.

use core::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};
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
///
/// Most events arrive in time order (a link with a fixed delay schedules
/// each frame after the one before it): those join a FIFO run, pushed and
/// popped in constant time. Only an event due before the run's last (a
/// reordered frame, a shorter link) goes to a heap. Every pop takes the
/// earlier of the two heads by (time, sequence number), so the order is
/// exactly that of one heap over all events.
pub struct Scheduler<E> {
    run: VecDeque<Entry<E>>,
    heap: BinaryHeap<Entry<E>>,
    seq: u64,
}

impl<E> Default for Scheduler<E> {
    fn default() -> Self {
        Self::new()
    }
}

/// Which queue holds the earliest event.
#[derive(Clone, Copy)]
enum Head {
    Run,
    Heap,
}

impl<E> Scheduler<E> {
    /// An empty queue.
    pub fn new() -> Self {
        Scheduler { run: VecDeque::new(), heap: BinaryHeap::new(), seq: 0 }
    }

    /// Schedules `event` at `at`.
    pub fn push(&mut self, at: Instant, event: E) {
        let seq = self.seq;
        self.seq += 1;
        let entry = Entry { at, seq, event };
        // Sequence numbers only grow, so the run stays sorted by
        // (time, sequence number) as long as times do not go back.
        if self.run.back().is_none_or(|last| last.at <= at) {
            self.run.push_back(entry);
        } else {
            self.heap.push(entry);
        }
    }

    /// The queue whose head is the earliest event, and that event's time.
    fn head(&self) -> Option<(Head, Instant)> {
        match (self.run.front(), self.heap.peek()) {
            (Some(r), Some(h)) if (h.at, h.seq) < (r.at, r.seq) => Some((Head::Heap, h.at)),
            (Some(r), _) => Some((Head::Run, r.at)),
            (None, Some(h)) => Some((Head::Heap, h.at)),
            (None, None) => None,
        }
    }

    fn take(&mut self, from: Head) -> Option<(Instant, E)> {
        let e = match from {
            Head::Run => self.run.pop_front(),
            Head::Heap => self.heap.pop(),
        };
        e.map(|e| (e.at, e.event))
    }

    /// When the earliest event is due.
    pub fn next_time(&self) -> Option<Instant> {
        self.head().map(|(_, at)| at)
    }

    /// Removes and returns the earliest event if it is due at or before `now`.
    pub fn pop_due(&mut self, now: Instant) -> Option<(Instant, E)> {
        let (from, at) = self.head()?;
        if at > now {
            return None;
        }
        self.take(from)
    }

    /// Removes and returns the earliest event, due or not.
    pub fn pop(&mut self) -> Option<(Instant, E)> {
        let (from, _) = self.head()?;
        self.take(from)
    }

    /// How many events are queued.
    pub fn len(&self) -> usize {
        self.run.len() + self.heap.len()
    }

    /// Whether no event is queued.
    pub fn is_empty(&self) -> bool {
        self.run.is_empty() && self.heap.is_empty()
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

    #[test]
    fn an_event_before_the_run_goes_first() {
        let mut s = Scheduler::new();
        s.push(Instant::from_millis(5), "late");
        s.push(Instant::from_millis(9), "later");
        s.push(Instant::from_millis(1), "early");
        s.push(Instant::from_millis(5), "tie after late");
        assert_eq!(s.next_time(), Some(Instant::from_millis(1)));
        let order: Vec<_> = core::iter::from_fn(|| s.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ["early", "late", "tie after late", "later"]);
    }

    proptest::proptest! {
        /// Any mix of pushes (times going back and forth) and pops comes out
        /// exactly as from a list sorted by (time, push order).
        #[test]
        fn same_order_as_one_sorted_list(
            ops in proptest::collection::vec((0u64..40, proptest::bool::weighted(0.3), 0u64..45), 1..200)
        ) {
            let mut s = Scheduler::new();
            let mut model: Vec<(u64, usize)> = Vec::new();
            for (i, (t, pop, now)) in ops.into_iter().enumerate() {
                if pop {
                    model.sort();
                    let due = model.first().filter(|&&(at, _)| at <= now).copied();
                    if due.is_some() {
                        model.remove(0);
                    }
                    let got = s.pop_due(Instant::from_nanos(now)).map(|(at, e)| (at.as_nanos(), e));
                    proptest::prop_assert_eq!(got, due);
                } else {
                    s.push(Instant::from_nanos(t), i);
                    model.push((t, i));
                }
                model.sort();
                proptest::prop_assert_eq!(s.len(), model.len());
                proptest::prop_assert_eq!(s.next_time().map(|t| t.as_nanos()), model.first().map(|&(at, _)| at));
            }
            model.sort();
            for m in model {
                proptest::prop_assert_eq!(s.pop().map(|(at, e)| (at.as_nanos(), e)), Some(m));
            }
            proptest::prop_assert!(s.is_empty());
        }
    }
}
