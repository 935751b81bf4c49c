//! A one-item mailbox where the newest item wins: what the detection worker and the plate solver wait on.
//!
//! A camera can deliver frames faster than they are analysed (or solved); keeping only the newest bounds memory and
//! keeps results current. The producer learns when its item replaced one still waiting, so it can count the drop.

use std::sync::{Condvar, Mutex, PoisonError};

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
}
