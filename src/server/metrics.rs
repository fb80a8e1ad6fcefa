//! `/metrics`: request counts and latencies by route, the snapshot served (and its age,
//! and whether `CURRENT` names one this server refused), page cache hits, the audit
//! log's health, sessions alive, and what the last nightly run reported
//! (`DATA/status/ingest.json`) — in the Prometheus text format.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SnapshotLabels {
    snapshot: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    outcome: &'static str,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    snapshot: Family<SnapshotLabels, Gauge>,
    switches: Counter,
    cache: Family<CacheLabels, Counter>,
    verifications: Counter,
    audit_failures: Gauge,
    audit_healthy: Gauge,
    refused: Gauge,
    snapshot_created: Gauge,
    snapshot_age: Gauge,
    sessions_alive: Gauge,
    ingest: IngestGauges,
    delivery_age: Family<KindLabels, Gauge>,
    delivery_stale: Family<KindLabels, Gauge>,
    delivery_stale_after: Gauge,
}

/// What the job's last run said, as gauges (absent until a status file is read).
#[derive(Default)]
struct IngestGauges {
    last_run: Gauge,
    last_success: Gauge,
    last_failed: Gauge,
    quarantined: Gauge,
    status_readable: Gauge,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("reintegra");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: Latency = Family::new_with_constructor(latency_histogram);
        let snapshot = Family::<SnapshotLabels, Gauge>::default();
        let switches = Counter::default();
        let cache = Family::<CacheLabels, Counter>::default();
        let verifications = Counter::default();
        let audit_failures = Gauge::default();
        let audit_healthy = Gauge::default();
        let refused = Gauge::default();
        let snapshot_created = Gauge::default();
        let snapshot_age = Gauge::default();
        let sessions_alive = Gauge::default();
        let ingest = IngestGauges::default();
        let delivery_age = Family::<KindLabels, Gauge>::default();
        let delivery_stale = Family::<KindLabels, Gauge>::default();
        let delivery_stale_after = Gauge::default();
        registry.register(
            "delivery_age_seconds",
            "Time since each kind of extract last had an accepted delivery (from DATA/deliveries/)",
            delivery_age.clone(),
        );
        registry.register(
            "delivery_stale",
            "1 when a kind of extract has had no accepted delivery for longer than the job's threshold",
            delivery_stale.clone(),
        );
        registry.register(
            "delivery_stale_after_seconds",
            "The job's threshold (ingest.toml [deliveries] stale_after_days)",
            delivery_stale_after.clone(),
        );
        registry.register(
            "snapshot_refused",
            "1 when CURRENT names a snapshot this server cannot serve (it keeps serving the one it has; see /healthz for why)",
            refused.clone(),
        );
        registry.register(
            "snapshot_created_timestamp_seconds",
            "When the snapshot served was published (Unix time)",
            snapshot_created.clone(),
        );
        registry.register(
            "snapshot_age_seconds",
            "Age of the snapshot served, at this scrape",
            snapshot_age.clone(),
        );
        registry.register(
            "sessions_alive",
            "Signed-in sessions this server saw in the last 30 minutes (idle expiry)",
            sessions_alive.clone(),
        );
        registry.register(
            "ingest_last_run_timestamp_seconds",
            "When the last nightly run ended (Unix time), from DATA/status/ingest.json",
            ingest.last_run.clone(),
        );
        registry.register(
            "ingest_last_success_timestamp_seconds",
            "When a nightly run last ended without error (Unix time)",
            ingest.last_success.clone(),
        );
        registry.register(
            "ingest_last_run_failed",
            "1 when the last nightly run ended with an error (nothing was published by it)",
            ingest.last_failed.clone(),
        );
        registry.register(
            "ingest_last_run_quarantined_files",
            "Files the last nightly run quarantined",
            ingest.quarantined.clone(),
        );
        registry.register(
            "ingest_status_readable",
            "1 when DATA/status/ingest.json could be read at this scrape",
            ingest.status_readable.clone(),
        );
        registry.register(
            "password_verifications",
            "Passwords verified (argon2) since start",
            verifications.clone(),
        );
        registry.register(
            "audit_write_failures",
            "Failed writes of the audit log since start",
            audit_failures.clone(),
        );
        registry.register(
            "audit_log_writable",
            "1 when the last write of the audit log succeeded, else 0",
            audit_healthy.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        registry.register(
            "snapshot_info",
            "The published snapshot being served (value 1)",
            snapshot.clone(),
        );
        registry.register(
            "snapshot_switches",
            "Snapshots switched to since start",
            switches.clone(),
        );
        registry.register(
            "page_cache",
            "Rendered-page cache lookups, by outcome",
            cache.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            requests,
            latency,
            snapshot,
            switches,
            cache,
            verifications,
            audit_failures,
            audit_healthy,
            refused,
            snapshot_created,
            snapshot_age,
            sessions_alive,
            ingest,
            delivery_age,
            delivery_stale,
            delivery_stale_after,
        }
    }

    pub fn request(&self, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_string(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels {
                route: route.to_string(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn snapshot(&self, id: &str, created: Option<chrono::DateTime<chrono::Utc>>) {
        self.snapshot_created
            .set(created.map_or(0, |c| c.timestamp()));
        self.snapshot.clear();
        self.snapshot
            .get_or_create(&SnapshotLabels {
                snapshot: id.to_string(),
            })
            .set(1);
        self.switches.inc();
    }

    pub fn cache(&self, hit: bool) {
        self.cache
            .get_or_create(&CacheLabels {
                outcome: if hit { "hit" } else { "miss" },
            })
            .inc();
    }

    pub fn password_verification(&self) {
        self.verifications.inc();
    }

    /// Password verifications since start.
    pub fn password_verifications(&self) -> u64 {
        self.verifications.get()
    }

    /// The state of the audit log, as of now.
    pub fn audit(&self, healthy: bool, failures: u64) {
        self.audit_healthy.set(i64::from(healthy));
        self.audit_failures.set(failures as i64);
    }

    pub fn refused(&self, refused: bool) {
        self.refused.set(i64::from(refused));
    }

    /// Figures read at scrape time: the served snapshot's age, sessions alive, and the
    /// job's last run.
    pub fn scrape(&self, now: i64, sessions_alive: usize, ingest: Option<&crate::status::Status>) {
        let created = self.snapshot_created.get();
        self.snapshot_age.set(if created > 0 {
            (now - created).max(0)
        } else {
            0
        });
        self.sessions_alive.set(sessions_alive as i64);
        self.ingest.status_readable.set(i64::from(ingest.is_some()));
        if let Some(status) = ingest {
            self.ingest.last_run.set(status.finished_at.timestamp());
            self.ingest
                .last_success
                .set(status.last_success_at.map_or(0, |t| t.timestamp()));
            self.ingest.last_failed.set(i64::from(status.failed()));
            self.ingest.quarantined.set(status.quarantined as i64);
        }
    }

    /// Per kind of extract, the age of its last accepted delivery, read at scrape time.
    pub fn deliveries(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        deliveries: Option<&crate::status::Deliveries>,
    ) {
        let Some(d) = deliveries else { return };
        self.delivery_stale_after
            .set(i64::from(d.stale_after_days) * 86_400);
        for c in &d.coverage {
            let kind = KindLabels {
                kind: c.kind.clone(),
            };
            if let Some(at) = c.last_accepted_at {
                self.delivery_age
                    .get_or_create(&kind)
                    .set((now - at).num_seconds().max(0));
            }
            self.delivery_stale
                .get_or_create(&kind)
                .set(i64::from(c.is_stale(now, d.stale_after_days)));
        }
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}
