//! Limits on password guessing. An attempt is reserved *before* its password is
//! verified, under one lock, so forty guesses sent at once get at most as many
//! verifications as the limit allows; a successful sign-in gives its reservation back,
//! a failed one keeps it.
//!
//! Three windows, each counting failed (or in-flight) attempts:
//! - one name from one address: 5 per 15 minutes (the usual guessing);
//! - one address, any names: 20 per 15 minutes (spraying names);
//! - one existing account from all addresses: 100 per hour (a distributed guess, the
//!   OWASP ASVS bound).
//!
//! The first two are keyed by address, so one attacker cannot lock a colleague out from
//! another address; IPv6 addresses count per /64 (one host holds a whole /64). Names are
//! cut to 64 bytes before use as keys. The map is pruned of expired windows and bounded
//! in size; `governor`'s GCRA limiter was not used because it cannot give a reservation
//! back, so every successful sign-in behind an office's shared address would count
//! against the others.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The limits of a server.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_name_at_address: usize,
    pub per_address: usize,
    pub per_account: usize,
    pub window: Duration,
    pub account_window: Duration,
    /// Keys kept at most (pruned first, then the least recently used go).
    pub max_keys: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_name_at_address: 5,
            per_address: 20,
            per_account: 100,
            window: Duration::from_secs(15 * 60),
            account_window: Duration::from_secs(60 * 60),
            max_keys: 50_000,
        }
    }
}

/// An address as the limiter counts it: IPv4 whole, IPv6 by its /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddressKey(u128);

impl From<IpAddr> for AddressKey {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => AddressKey(u32::from(v4) as u128),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressKey(u32::from(v4) as u128),
                None => AddressKey((u128::from(v6) & !((1u128 << 64) - 1)) | (1 << 32)),
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    NameAt(String, AddressKey),
    Address(AddressKey),
    Account(String),
}

/// Attempts reserved for one sign-in; give it back with `succeeded`.
#[derive(Debug)]
pub struct Reservation {
    keys: Vec<Key>,
    at: Instant,
}

pub struct LoginLimiter {
    limits: Limits,
    windows: Mutex<HashMap<Key, VecDeque<Instant>>>,
}

/// The longest name used as a key.
pub const NAME_CAP: usize = 64;

fn cut(name: &str) -> String {
    let mut end = name.len().min(NAME_CAP);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name[..end].to_string()
}

impl LoginLimiter {
    pub fn new(limits: Limits) -> Self {
        LoginLimiter {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    fn limit_of(&self, key: &Key) -> (usize, Duration) {
        let l = &self.limits;
        match key {
            Key::NameAt(..) => (l.per_name_at_address, l.window),
            Key::Address(_) => (l.per_address, l.window),
            Key::Account(_) => (l.per_account, l.account_window),
        }
    }

    /// Reserves one attempt of `name` from `address` (`known`: the name is an account),
    /// or says how long to wait.
    pub fn reserve(
        &self,
        name: &str,
        known: bool,
        address: IpAddr,
    ) -> Result<Reservation, Duration> {
        let now = Instant::now();
        let address = AddressKey::from(address);
        let name = cut(name);
        let mut keys = vec![Key::Address(address), Key::NameAt(name.clone(), address)];
        if known {
            keys.push(Key::Account(name));
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut wait = Duration::ZERO;
        for key in &keys {
            let (limit, window) = self.limit_of(key);
            if let Some(times) = windows.get_mut(key) {
                while times
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    times.pop_front();
                }
                if times.len() >= limit {
                    let oldest = *times.front().expect("a full window has times");
                    wait = wait.max(window.saturating_sub(now.duration_since(oldest)));
                }
            }
        }
        if wait > Duration::ZERO {
            return Err(wait.max(Duration::from_secs(1)));
        }
        if windows.len() + keys.len() > self.limits.max_keys {
            self.prune(&mut windows, now);
        }
        for key in &keys {
            windows.entry(key.clone()).or_default().push_back(now);
        }
        Ok(Reservation { keys, at: now })
    }

    /// A sign-in succeeded: its reservation is given back, and the name's failures from
    /// that address are forgotten.
    pub fn succeeded(&self, reservation: Reservation) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for key in reservation.keys {
            if matches!(key, Key::NameAt(..)) {
                windows.remove(&key);
                continue;
            }
            if let Some(times) = windows.get_mut(&key) {
                if let Some(i) = times.iter().rposition(|t| *t == reservation.at) {
                    times.remove(i);
                }
                if times.is_empty() {
                    windows.remove(&key);
                }
            }
        }
    }

    /// Drops expired windows; if the map is still full, the least recently used half.
    fn prune(&self, windows: &mut HashMap<Key, VecDeque<Instant>>, now: Instant) {
        windows.retain(|key, times| {
            let (_, window) = self.limit_of(key);
            times
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
        });
        if windows.len() + 3 > self.limits.max_keys {
            let mut last: Vec<(Instant, Key)> = windows
                .iter()
                .filter_map(|(k, t)| t.back().map(|t| (*t, k.clone())))
                .collect();
            last.sort_by_key(|(t, _)| *t);
            for (_, key) in last.into_iter().take(windows.len() / 2 + 3) {
                windows.remove(&key);
            }
        }
    }

    /// Keys held (for tests and metrics).
    pub fn len(&self) -> usize {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn five_attempts_of_a_name_from_one_address_then_a_wait() {
        let l = LoginLimiter::new(Limits::default());
        let held: Vec<_> = (0..5)
            .map(|_| l.reserve("awa", true, ip("10.0.0.1")).unwrap())
            .collect();
        let wait = l.reserve("awa", true, ip("10.0.0.1")).unwrap_err();
        assert!(wait > Duration::from_secs(800), "{wait:?}");
        // Another address is not locked out by this one.
        assert!(l.reserve("awa", true, ip("10.0.0.2")).is_ok());
        drop(held);
    }

    #[test]
    fn a_success_gives_its_reservation_back() {
        let l = LoginLimiter::new(Limits::default());
        for _ in 0..30 {
            let r = l.reserve("awa", true, ip("10.0.0.1")).unwrap();
            l.succeeded(r);
        }
        assert!(l.reserve("awa", true, ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn an_address_spraying_names_is_stopped_and_ipv6_counts_per_64() {
        let l = LoginLimiter::new(Limits::default());
        for i in 0..20 {
            let a = format!("2001:db8:1:2::{i:x}");
            l.reserve(&format!("name{i}"), false, ip(&a)).unwrap();
        }
        assert!(l.reserve("other", false, ip("2001:db8:1:2::ffff")).is_err());
        assert!(l.reserve("other", false, ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn an_account_is_guessed_at_most_100_times_an_hour_from_anywhere() {
        let l = LoginLimiter::new(Limits::default());
        for i in 0..100u32 {
            l.reserve(
                "awa",
                true,
                IpAddr::from([10, 1, (i / 200) as u8, (i % 200) as u8]),
            )
            .unwrap();
        }
        assert!(l.reserve("awa", true, ip("192.168.9.9")).is_err());
        // Unknown names have no account-wide window (nothing to protect, nothing to grow).
        for i in 0..100u32 {
            l.reserve(
                "ghost",
                false,
                IpAddr::from([10, 2, (i / 200) as u8, (i % 200) as u8]),
            )
            .unwrap();
        }
        assert!(l.reserve("ghost", false, ip("192.168.9.9")).is_ok());
    }

    #[test]
    fn the_map_stays_bounded_and_long_names_are_cut() {
        let limits = Limits {
            max_keys: 1000,
            ..Limits::default()
        };
        let l = LoginLimiter::new(limits);
        for i in 0..20_000u32 {
            let _ = l.reserve(&"x".repeat(10_000), false, IpAddr::from(i.to_be_bytes()));
        }
        assert!(l.len() <= 1000, "{}", l.len());
    }
}
