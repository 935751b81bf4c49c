//! A one-item mailbox where the newest item wins: what the detection worker and the plate solver wait on.
//!
//! A camera can deliver frames faster than they are analysed (or solved); keeping only the newest bounds memory and
//! keeps results current. The producer learns when its item replaced one still waiting, so it can count the drop.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

struct Slot<T> {
    waiting: Option<T>,
    shutdown: bool,
}

/// The mailbox; share it with `Arc`.
pub struct Latest<T> {
    slot: Mutex<Slot<T>>,
    ready: Condvar,
}

impl<T> Default for Latest<T> {
    fn default() -> Self {
        Self { slot: Mutex::new(Slot { waiting: None, shutdown: false }), ready: Condvar::new() }
    }
}

impl<T> Latest<T> {
    /// Puts an item in, replacing the one waiting; true when one was replaced.
    pub fn put(&self, item: T) -> bool {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let replaced = slot.waiting.replace(item).is_some();
        self.ready.notify_one();
        replaced
    }

    /// Waits for an item; `None` once [`Latest::close`] was called.
    pub fn take(&self) -> Option<T> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if slot.shutdown {
                return None;
            }
            if let Some(item) = slot.waiting.take() {
                return Some(item);
            }
            slot = self.ready.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// [`Latest::take`] that calls `on_idle` once whenever nothing has come for `idle` (then waits on): the worker
    /// gives back the memory it keeps for the next frame when the frames have stopped coming.
    pub fn take_or_idle(&self, idle: Duration, mut on_idle: impl FnMut()) -> Option<T> {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        let mut called = false;
        loop {
            if slot.shutdown {
                return None;
            }
            if let Some(item) = slot.waiting.take() {
                return Some(item);
            }
            if called {
                slot = self.ready.wait(slot).unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            let (next, timeout) = self.ready.wait_timeout(slot, idle).unwrap_or_else(PoisonError::into_inner);
            slot = next;
            if timeout.timed_out() && slot.waiting.is_none() && !slot.shutdown {
                // Not under the lock: the producer must not wait for what `on_idle` does.
                drop(slot);
                on_idle();
                called = true;
                slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
            }
        }
    }

    /// Drops what waits and wakes the consumer for good.
    pub fn close(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(PoisonError::into_inner);
        slot.shutdown = true;
        slot.waiting = None;
        self.ready.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn newest_wins_and_close_ends_the_wait() {
        let l = Arc::new(Latest::default());
        assert!(!l.put(1));
        assert!(l.put(2));
        assert_eq!(l.take(), Some(2));
        let theirs = Arc::clone(&l);
        let t = std::thread::spawn(move || theirs.take());
        l.close();
        assert_eq!(t.join().unwrap(), None);
        assert!(!l.put(3) && l.take().is_none(), "closed stays closed");
    }

    #[test]
    fn idle_is_called_once_per_quiet_spell_and_never_while_items_wait() {
        let l = Arc::new(Latest::default());
        let idles = std::sync::atomic::AtomicUsize::new(0);
        let count = || idles.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        l.put(1);
        assert_eq!(
            l.take_or_idle(Duration::from_millis(20), || {
                count();
            }),
            Some(1)
        );
        assert_eq!(idles.load(std::sync::atomic::Ordering::SeqCst), 0, "an item was waiting");
        // Nothing for 200 ms with a 20-ms idle: called once, not ten times; the item then still arrives.
        let theirs = Arc::clone(&l);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            theirs.put(2);
        });
        assert_eq!(
            l.take_or_idle(Duration::from_millis(20), || {
                count();
            }),
            Some(2)
        );
        assert_eq!(idles.load(std::sync::atomic::Ordering::SeqCst), 1);
        t.join().unwrap();
        l.close();
        assert_eq!(
            l.take_or_idle(Duration::from_millis(20), || {
                count();
            }),
            None
        );
    }
}
