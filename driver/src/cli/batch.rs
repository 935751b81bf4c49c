//! Spreading a batch: over the cores of one machine (`--jobs`) and over machines (`--shard K/N`).
//!
//! A night's folder is thousands of independent files, so the work splits by file: each job has its own detector
//! (the detectors keep per-frame state and ONNX sessions, and are not shared between threads) and holds one frame at
//! a time, so memory is bounded by the number of jobs. Across machines the split is left to the schedulers clubs and
//! observatories already run (GNU parallel over ssh, Slurm array jobs): `--shard K/N` takes every N-th file of the
//! sorted list from the K-th, so N commands started anywhere cover the folder once, with no coordinator of ours.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// One shard of N: `K/N`, `0 ≤ K < N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: usize,
    /// How many shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("'{s}' is not K/N with 0 ≤ K < N (for example 0/4)");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = k.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The items of this shard: every `count`-th from `index`. Round robin rather than blocks, so that a folder
    /// sorted by time gives each host frames from the whole night (and a similar mix of work).
    pub fn select<T>(&self, items: Vec<T>) -> Vec<T> {
        items.into_iter().skip(self.index).step_by(self.count).collect()
    }
}

/// The number of jobs: `0` means one per core; never more than there are items.
pub fn job_count(requested: usize, items: usize) -> usize {
    let jobs = if requested == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { requested };
    jobs.clamp(1, items.max(1))
}

/// Runs `work` on every item with `jobs` threads, each with its own state made by `make` (a detector). With one job
/// the items are taken in order on the calling thread. Stops at the first error of `make`, which it returns.
pub fn for_each<T: Sync, S, E: Send>(
    items: &[T],
    jobs: usize,
    make: impl Fn() -> Result<S, E> + Sync,
    work: impl Fn(&mut S, &T) + Sync,
) -> Result<(), E> {
    if jobs <= 1 {
        let mut state = make()?;
        items.iter().for_each(|item| work(&mut state, item));
        return Ok(());
    }
    let next = AtomicUsize::new(0);
    let first_error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut state = match make() {
                    Ok(s) => s,
                    Err(e) => {
                        first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        // No more items for anyone: the batch stops as it would with one job.
                        next.store(items.len(), Ordering::Relaxed);
                        return;
                    }
                };
                while let Some(item) = items.get(next.fetch_add(1, Ordering::Relaxed)) {
                    work(&mut state, item);
                }
            });
        }
    });
    match first_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_item_once() {
        let items: Vec<usize> = (0..10).collect();
        let mut seen: Vec<usize> = (0..3).flat_map(|k| Shard { index: k, count: 3 }.select(items.clone())).collect();
        seen.sort();
        assert_eq!(seen, items);
        assert_eq!(Shard { index: 1, count: 3 }.select(items), vec![1, 4, 7]);
    }

    #[test]
    fn shard_syntax_is_checked() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["4/4", "1/0", "1", "a/2", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_item_is_worked_once_by_several_jobs() {
        let items: Vec<usize> = (0..1000).collect();
        let done = Mutex::new(Vec::new());
        let made = AtomicUsize::new(0);
        for_each(
            &items,
            4,
            || -> Result<(), ()> {
                made.fetch_add(1, Ordering::Relaxed);
                Ok(())
            },
            |_, &i| done.lock().unwrap().push(i),
        )
        .unwrap();
        let mut done = done.into_inner().unwrap();
        done.sort();
        assert_eq!(done, items);
        assert_eq!(made.load(Ordering::Relaxed), 4, "one state per job");
    }

    #[test]
    fn a_state_that_cannot_be_made_stops_the_batch() {
        let items = [1, 2, 3];
        let r = for_each(&items, 2, || Err::<(), _>("no model"), |_, _| unreachable!());
        assert_eq!(r, Err("no model"));
        assert_eq!(job_count(0, 0), 1);
        assert_eq!(job_count(8, 3), 3);
    }
}
