//! Signed answers kept for reuse, bounded in bytes. Eviction approximates least
//! recently used with the CLOCK algorithm: a hit only sets a flag (under the read
//! lock, so the hot path stays a read), and eviction gives each flagged entry a
//! second chance before it goes. Answers for serials this CA never issued live in
//! a cache of their own, so a flood of random serials cannot push out the answers
//! for real certificates.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// One cached entry and whether it was used since the clock hand last passed.
struct Slot<V> {
    value: V,
    bytes: usize,
    used: AtomicBool,
}

struct Inner<V> {
    map: HashMap<Vec<u8>, Slot<V>>,
    order: VecDeque<Vec<u8>>,
    bytes: usize,
}

/// A map of at most `budget` bytes (keys and values as the caller sizes them).
pub(crate) struct Cache<V> {
    budget: usize,
    inner: RwLock<Inner<V>>,
}

impl<V: Clone> Cache<V> {
    /// An empty cache holding at most `budget` bytes.
    pub(crate) fn new(budget: usize) -> Self {
        Cache { budget, inner: RwLock::new(Inner { map: HashMap::new(), order: VecDeque::new(), bytes: 0 }) }
    }

    /// The value for `key`, marked as used.
    pub(crate) fn get(&self, key: &[u8]) -> Option<V> {
        let inner = self.inner.read().ok()?;
        let slot = inner.map.get(key)?;
        slot.used.store(true, Ordering::Relaxed);
        Some(slot.value.clone())
    }

    /// Keep `value` under `key`, `bytes` large, evicting until it fits. A value
    /// larger than the whole budget is not kept.
    pub(crate) fn insert(&self, key: Vec<u8>, value: V, bytes: usize) {
        let size = bytes + key.len();
        if size > self.budget {
            return;
        }
        let Ok(mut inner) = self.inner.write() else { return };
        if let Some(old) = inner.map.remove(&key) {
            inner.bytes -= old.bytes;
            inner.order.retain(|k| k != &key);
        }
        // Bounded: each entry is looked at most twice (once flagged, once not).
        let mut turns = 2 * inner.order.len();
        while inner.bytes + size > self.budget && turns > 0 {
            turns -= 1;
            let Some(candidate) = inner.order.pop_front() else { break };
            let second_chance = inner.map.get(&candidate).is_some_and(|s| s.used.swap(false, Ordering::Relaxed));
            if second_chance {
                inner.order.push_back(candidate);
            } else if let Some(gone) = inner.map.remove(&candidate) {
                inner.bytes -= gone.bytes;
            }
        }
        if inner.bytes + size > self.budget {
            return;
        }
        inner.bytes += size;
        inner.order.push_back(key.clone());
        inner.map.insert(key, Slot { value, bytes: size, used: AtomicBool::new(false) });
    }

    /// Keep only the entries `keep` accepts.
    pub(crate) fn retain(&self, mut keep: impl FnMut(&V) -> bool) {
        let Ok(mut inner) = self.inner.write() else { return };
        let Inner { map, order, bytes } = &mut *inner;
        map.retain(|_, s| {
            let k = keep(&s.value);
            if !k {
                *bytes -= s.bytes;
            }
            k
        });
        order.retain(|k| map.contains_key(k));
    }

    /// How many entries are kept.
    pub(crate) fn len(&self) -> usize {
        self.inner.read().map(|i| i.map.len()).unwrap_or(0)
    }

    /// How many bytes are kept.
    pub(crate) fn bytes(&self) -> usize {
        self.inner.read().map(|i| i.bytes).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_within_its_budget_and_keeps_what_is_used() {
        let cache = Cache::new(10 * 100);
        for i in 0..10u8 {
            cache.insert(vec![i], i, 99);
        }
        assert_eq!(cache.len(), 10);
        // 0 and 1 are in use; a flood of new entries evicts the others first.
        for round in 0..5u8 {
            assert_eq!(cache.get(&[0]), Some(0));
            assert_eq!(cache.get(&[1]), Some(1));
            for j in 0..4u8 {
                cache.insert(vec![100 + round * 4 + j], 0, 99);
            }
            assert!(cache.bytes() <= 1000);
        }
        assert_eq!(cache.get(&[0]), Some(0), "a used entry survives the flood");
        assert_eq!(cache.get(&[1]), Some(1));
        assert_eq!(cache.get(&[2]), None, "an unused one went");
        // Too large for the budget: not kept, nothing evicted for it.
        cache.insert(vec![250], 0, 5_000);
        assert_eq!(cache.get(&[250]), None);
        cache.retain(|v| *v != 1);
        assert_eq!(cache.get(&[1]), None);
        assert!(cache.bytes() <= 1000);
    }
}
