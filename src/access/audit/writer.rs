//! Entries of the audit log written by a background thread, so that requests never
//! wait on the disk. The thread writes what has queued up, then pauses briefly: under
//! load one write serves many requests, and an entry reaches the file within a few
//! milliseconds.
//!
//! When a write fails (a full disk, a lost mount) the entries are kept in memory and
//! retried every second, and the writer reports itself unhealthy until a write
//! succeeds again: the server then refuses views of person figures rather than serve
//! them unrecorded. Requests that match no route are only counted; one summary line a
//! minute records how many there were.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::{AuditLog, Entry};

#[derive(Clone)]
pub struct AuditWriter {
    sender: mpsc::Sender<Message>,
    state: Arc<State>,
}

#[derive(Default)]
struct State {
    failing: AtomicBool,
    unmatched: AtomicU64,
    write_failures: AtomicU64,
}

enum Message {
    Entry(Entry),
    /// Answer, once everything sent before was tried, whether it is all written.
    Flush(mpsc::Sender<bool>),
}

const BATCH_PAUSE: Duration = Duration::from_millis(10);
const RETRY: Duration = Duration::from_secs(1);
const SUMMARY_EVERY: Duration = Duration::from_secs(60);
/// Entries kept in memory while the log cannot be written; older ones beyond this are
/// dropped and their number recorded once the log works again.
const PENDING_LIMIT: usize = 100_000;

impl AuditWriter {
    pub fn start(log: AuditLog) -> AuditWriter {
        let (sender, receiver) = mpsc::channel::<Message>();
        let state = Arc::new(State::default());
        let thread_state = state.clone();
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || run(log, receiver, thread_state))
            .expect("the audit thread starts");
        AuditWriter { sender, state }
    }

    pub fn record(&self, entry: Entry) {
        let _ = self.sender.send(Message::Entry(entry));
    }

    /// Counts a request that matched no route (written as a summary line).
    pub fn unmatched(&self) {
        self.state.unmatched.fetch_add(1, Ordering::Relaxed);
    }

    /// Whether the last write succeeded.
    pub fn healthy(&self) -> bool {
        !self.state.failing.load(Ordering::Relaxed)
    }

    /// Failed writes since start.
    pub fn write_failures(&self) -> u64 {
        self.state.write_failures.load(Ordering::Relaxed)
    }

    /// Waits (at most `timeout`) until every entry recorded so far was tried; true when
    /// all of them are in the file (e.g. before the server exits).
    pub fn flush(&self, timeout: Duration) -> bool {
        let (done, wait) = mpsc::channel();
        self.sender.send(Message::Flush(done)).is_ok() && wait.recv_timeout(timeout) == Ok(true)
    }
}

fn run(log: AuditLog, receiver: mpsc::Receiver<Message>, state: Arc<State>) {
    let mut pending: Vec<Entry> = Vec::new();
    let mut dropped: u64 = 0;
    let mut last_summary = Instant::now();
    loop {
        let wait = if pending.is_empty() {
            SUMMARY_EVERY
        } else {
            RETRY
        };
        let first = match receiver.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                summarise(&state, &mut pending, &mut last_summary, true);
                write(&log, &state, &mut pending, &mut dropped);
                return;
            }
        };
        let mut waiting = Vec::new();
        for message in first.into_iter().chain(receiver.try_iter()) {
            match message {
                Message::Entry(entry) => pending.push(entry),
                Message::Flush(done) => waiting.push(done),
            }
        }
        let force = !waiting.is_empty();
        summarise(&state, &mut pending, &mut last_summary, force);
        if pending.len() > PENDING_LIMIT {
            let excess = pending.len() - PENDING_LIMIT;
            pending.drain(..excess);
            dropped += excess as u64;
        }
        let written = write(&log, &state, &mut pending, &mut dropped);
        for done in waiting {
            let _ = done.send(written);
        }
        std::thread::sleep(BATCH_PAUSE);
    }
}

/// Adds the summary of unmatched requests when a minute has passed (or when forced).
fn summarise(state: &State, pending: &mut Vec<Entry>, last: &mut Instant, force: bool) {
    if !force && last.elapsed() < SUMMARY_EVERY {
        return;
    }
    *last = Instant::now();
    let count = state.unmatched.swap(0, Ordering::Relaxed);
    if count > 0 {
        let mut e = Entry::new("unmatched", "-", "*");
        e.status = 404;
        e.detail = Some(format!("{count} request(s) matched no route"));
        pending.push(e);
    }
}

/// Tries to write what is pending; true when nothing is left.
fn write(log: &AuditLog, state: &State, pending: &mut Vec<Entry>, dropped: &mut u64) -> bool {
    if pending.is_empty() {
        return true;
    }
    if *dropped > 0 {
        let mut e = Entry::new("audit", "-", "audit.log");
        e.detail = Some(format!(
            "{dropped} entries lost while the audit log could not be written"
        ));
        pending.insert(0, e);
    }
    match log.append_all(pending) {
        Ok(()) => {
            if state.failing.swap(false, Ordering::Relaxed) {
                tracing::warn!("the audit log is written again");
            }
            pending.clear();
            *dropped = 0;
            true
        }
        Err(e) => {
            if *dropped > 0 {
                pending.remove(0);
            }
            state.write_failures.fetch_add(1, Ordering::Relaxed);
            if !state.failing.swap(true, Ordering::Relaxed) {
                tracing::error!(error = %e, path = %log.path().display(), entries = pending.len(), "cannot write the audit log; person figures are refused until it works again");
            }
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_batched_and_unmatched_requests_summarised() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        let writer = AuditWriter::start(log.clone());
        for _ in 0..100 {
            writer.record(Entry::new("view", "GET", "/d/returns"));
        }
        for _ in 0..500 {
            writer.unmatched();
        }
        assert!(writer.flush(Duration::from_secs(5)));
        let entries = log.read().unwrap();
        assert_eq!(entries.len(), 101);
        let summary = entries.iter().find(|e| e.action == "unmatched").unwrap();
        assert_eq!(
            summary.detail.as_deref(),
            Some("500 request(s) matched no route")
        );
        assert!(writer.healthy());
    }

    #[cfg(unix)]
    #[test]
    fn a_full_disk_makes_the_writer_unhealthy_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path());
        std::os::unix::fs::symlink("/dev/full", log.path()).unwrap();
        let writer = AuditWriter::start(log.clone());
        writer.record(Entry::new("view", "GET", "/d/returns"));
        assert!(!writer.flush(Duration::from_secs(5)));
        assert!(!writer.healthy() && writer.write_failures() > 0);
        std::fs::remove_file(log.path()).unwrap();
        writer.record(Entry::new("view", "GET", "/d/overview"));
        assert!(writer.flush(Duration::from_secs(5)));
        assert!(writer.healthy());
        let paths: Vec<String> = log.read().unwrap().into_iter().map(|e| e.path).collect();
        assert_eq!(paths, ["/d/returns", "/d/overview"]);
    }
}
