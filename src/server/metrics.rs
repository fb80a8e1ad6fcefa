//! `/metrics`: request counts and latencies by route, the snapshot served, page cache
//! hits — in the Prometheus text format.

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

    pub fn snapshot(&self, id: &str) {
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

    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        if encode(&mut out, &registry).is_err() {
            out.clear();
        }
        out
    }
}
