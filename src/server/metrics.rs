//! Prometheus metrics in text format: requests by route and status with
//! latency histograms, publish, conflict and rollback counters, what
//! retention (`/v1/gc`) reclaimed, and the
//! Hive Metastore Thrift edge's calls by method and outcome.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency histogram bucket bounds, in seconds.
const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// The server's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    publishes: AtomicU64,
    conflicts: AtomicU64,
    rollbacks: AtomicU64,
    gc_batches: AtomicU64,
    gc_files: AtomicU64,
    gc_bytes: AtomicU64,
    hms_calls: Mutex<BTreeMap<(String, &'static str), u64>>,
    hms_latency: Mutex<BTreeMap<String, Histogram>>,
    hms_events: Mutex<BTreeMap<&'static str, u64>>,
    openlineage_delivered: AtomicU64,
    openlineage_failed: AtomicU64,
    openlineage_backlog: AtomicU64,
}

impl Histogram {
    fn observe(&mut self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                self.counts[i] += 1;
            }
        }
        self.sum += secs;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, label: &str, value: &str) {
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "{name}_bucket{{{label}=\"{value}\",le=\"{b}\"}} {}",
                self.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{label}=\"{value}\",le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{label}=\"{value}\"}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{label}=\"{value}\"}} {}", self.count);
    }
}

impl Metrics {
    /// Records one request.
    pub fn request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_owned(), route.to_owned(), status))
                .or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_owned()).or_default();
            let secs = elapsed.as_secs_f64();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += secs;
            h.count += 1;
        }
    }

    /// Records one Hive Metastore Thrift call: its method (`unknown` for
    /// methods not served, so clients cannot grow the label set) and its
    /// outcome (`ok`, `exception`, `refused`, `unknown_method`).
    pub fn hms_call(&self, method: &str, outcome: &'static str, elapsed: Duration) {
        if let Ok(mut c) = self.hms_calls.lock() {
            *c.entry((method.to_owned(), outcome)).or_default() += 1;
        }
        if let Ok(mut l) = self.hms_latency.lock() {
            l.entry(method.to_owned()).or_default().observe(elapsed);
        }
    }

    /// Counts a Thrift connection event (`connection_refused`, `protocol_error`).
    pub fn hms_event(&self, what: &'static str) {
        if let Ok(mut e) = self.hms_events.lock() {
            *e.entry(what).or_default() += 1;
        }
    }

    /// Records published partitions.
    pub fn publish(&self, partitions: usize) {
        self.publishes
            .fetch_add(partitions as u64, Ordering::Relaxed);
    }

    /// Records a compare-and-swap conflict.
    pub fn conflict(&self) {
        self.conflicts.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a rollback.
    pub fn rollback(&self) {
        self.rollbacks.fetch_add(1, Ordering::Relaxed);
    }

    /// Records what an applied gc reclaimed.
    pub fn gc(&self, batches: u64, files: u64, bytes: u64) {
        self.gc_batches.fetch_add(batches, Ordering::Relaxed);
        self.gc_files.fetch_add(files, Ordering::Relaxed);
        self.gc_bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts an OpenLineage event the receiver accepted.
    pub fn openlineage_delivered(&self) {
        self.openlineage_delivered.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed OpenLineage delivery attempt (it is retried).
    pub fn openlineage_failed(&self) {
        self.openlineage_failed.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the publish events read from the log and not yet delivered.
    pub fn openlineage_backlog(&self, events: usize) {
        self.openlineage_backlog
            .store(events as u64, Ordering::Relaxed);
    }

    /// The metrics in Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP batchmeta_http_requests_total HTTP requests by method, route and status."
        );
        let _ = writeln!(out, "# TYPE batchmeta_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((method, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "batchmeta_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP batchmeta_http_request_duration_seconds HTTP request latency by route."
        );
        let _ = writeln!(
            out,
            "# TYPE batchmeta_http_request_duration_seconds histogram"
        );
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "batchmeta_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    out,
                    "batchmeta_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    out,
                    "batchmeta_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    out,
                    "batchmeta_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        for (name, help, v) in [
            (
                "batchmeta_publishes_total",
                "Partitions published.",
                &self.publishes,
            ),
            (
                "batchmeta_conflicts_total",
                "Compare-and-swap conflicts.",
                &self.conflicts,
            ),
            ("batchmeta_rollbacks_total", "Rollbacks.", &self.rollbacks),
            (
                "batchmeta_gc_reclaimed_batches_total",
                "Batches (and orphan objects) retention deleted.",
                &self.gc_batches,
            ),
            (
                "batchmeta_gc_reclaimed_files_total",
                "Files retention deleted.",
                &self.gc_files,
            ),
            (
                "batchmeta_gc_reclaimed_bytes_total",
                "Bytes retention deleted.",
                &self.gc_bytes,
            ),
            (
                "batchmeta_openlineage_delivered_total",
                "OpenLineage events the receiver accepted.",
                &self.openlineage_delivered,
            ),
            (
                "batchmeta_openlineage_failed_total",
                "OpenLineage delivery attempts that failed (each is retried).",
                &self.openlineage_failed,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP batchmeta_openlineage_backlog Publish events read from the log and not yet delivered to the OpenLineage receiver (up to a page).\n# TYPE batchmeta_openlineage_backlog gauge\nbatchmeta_openlineage_backlog {}",
            self.openlineage_backlog.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP batchmeta_hms_calls_total Hive Metastore Thrift calls by method and outcome.\n# TYPE batchmeta_hms_calls_total counter"
        );
        if let Ok(c) = self.hms_calls.lock() {
            for ((method, outcome), n) in c.iter() {
                let _ = writeln!(
                    out,
                    "batchmeta_hms_calls_total{{method=\"{method}\",outcome=\"{outcome}\"}} {n}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP batchmeta_hms_call_duration_seconds Hive Metastore Thrift call latency by method.\n# TYPE batchmeta_hms_call_duration_seconds histogram"
        );
        if let Ok(l) = self.hms_latency.lock() {
            for (method, h) in l.iter() {
                h.render(
                    &mut out,
                    "batchmeta_hms_call_duration_seconds",
                    "method",
                    method,
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP batchmeta_hms_connection_events_total Thrift connections refused (limit) or closed for bad input.\n# TYPE batchmeta_hms_connection_events_total counter"
        );
        if let Ok(e) = self.hms_events.lock() {
            for (what, n) in e.iter() {
                let _ = writeln!(
                    out,
                    "batchmeta_hms_connection_events_total{{event=\"{what}\"}} {n}"
                );
            }
        }
        out
    }
}
