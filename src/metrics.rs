//! Prometheus metrics: counters, gauges and latency histograms in one process-wide registry,
//! rendered in the text exposition format at `GET /metrics`.

use std::{
    collections::BTreeMap,
    fmt::Write,
    sync::{LazyLock, Mutex},
    time::Duration,
};

/// Latency buckets in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

type Labels = Vec<(&'static str, String)>;

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    total: u64,
}

#[derive(Default)]
struct Registry {
    counters: BTreeMap<(&'static str, Labels), u64>,
    gauges: BTreeMap<&'static str, i64>,
    histograms: BTreeMap<(&'static str, Labels), Histogram>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

const HELP: &[(&str, &str, &str)] = &[
    (
        "leadsync_graphql_requests_total",
        "counter",
        "GraphQL requests by operation and outcome.",
    ),
    (
        "leadsync_graphql_request_duration_seconds",
        "histogram",
        "GraphQL request latency by operation.",
    ),
    (
        "leadsync_sync_runs_total",
        "counter",
        "Finished sync runs by status.",
    ),
    (
        "leadsync_submissions_processed_total",
        "counter",
        "Form submissions processed by matching status.",
    ),
    (
        "leadsync_linkedin_calls_total",
        "counter",
        "Calls to LinkedIn by HTTP status (0: no answer).",
    ),
    (
        "leadsync_subscriptions",
        "gauge",
        "Open GraphQL subscriptions.",
    ),
    (
        "leadsync_webhook_deliveries_queued_total",
        "counter",
        "Outbound webhook deliveries created from lead events.",
    ),
    (
        "leadsync_webhook_deliveries_total",
        "counter",
        "Outbound webhook attempts by outcome (succeeded, retried, failed, skipped).",
    ),
    (
        "leadsync_webhook_delivery_duration_seconds",
        "histogram",
        "Outbound webhook attempt latency.",
    ),
    (
        "leadsync_rate_limited_total",
        "counter",
        "Requests refused by the per-token rate limit.",
    ),
];

fn labels(pairs: &[(&'static str, &str)]) -> Labels {
    pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

pub fn count(name: &'static str, pairs: &[(&'static str, &str)], by: u64) {
    if let Ok(mut r) = REGISTRY.lock() {
        *r.counters.entry((name, labels(pairs))).or_default() += by;
    }
}

pub fn gauge_add(name: &'static str, delta: i64) {
    if let Ok(mut r) = REGISTRY.lock() {
        *r.gauges.entry(name).or_default() += delta;
    }
}

pub fn observe(name: &'static str, pairs: &[(&'static str, &str)], elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    if let Ok(mut r) = REGISTRY.lock() {
        let h = r.histograms.entry((name, labels(pairs))).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                h.counts[i] += 1;
            }
        }
        h.sum += seconds;
        h.total += 1;
    }
}

/// Counts an open subscription for as long as the guard lives.
pub struct SubscriptionGuard;

impl SubscriptionGuard {
    pub fn open() -> Self {
        gauge_add("leadsync_subscriptions", 1);
        SubscriptionGuard
    }
}

impl Drop for SubscriptionGuard {
    fn drop(&mut self) {
        gauge_add("leadsync_subscriptions", -1);
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render_labels(labels: &Labels, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
        .collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("{{{}}}", parts.join(","))
    }
}

/// The text exposition format.
pub fn render() -> String {
    let r = REGISTRY.lock().expect("metrics lock");
    let mut out = String::new();
    for (name, kind, help) in HELP {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        match *kind {
            "counter" => {
                for ((n, l), v) in r.counters.iter().filter(|((n, _), _)| n == name) {
                    let _ = writeln!(out, "{n}{} {v}", render_labels(l, None));
                }
            }
            "gauge" => {
                let v = r.gauges.get(name).copied().unwrap_or(0);
                let _ = writeln!(out, "{name} {v}");
            }
            _ => {
                for ((n, l), h) in r.histograms.iter().filter(|((n, _), _)| n == name) {
                    for (i, bound) in BUCKETS.iter().enumerate() {
                        let _ = writeln!(
                            out,
                            "{n}_bucket{} {}",
                            render_labels(l, Some(("le", bound.to_string()))),
                            h.counts[i]
                        );
                    }
                    let _ = writeln!(
                        out,
                        "{n}_bucket{} {}",
                        render_labels(l, Some(("le", "+Inf".into()))),
                        h.total
                    );
                    let _ = writeln!(out, "{n}_sum{} {}", render_labels(l, None), h.sum);
                    let _ = writeln!(out, "{n}_count{} {}", render_labels(l, None), h.total);
                }
            }
        }
    }
    out
}

/// The configured LinkedIn API version and its expected sunset, for alerts ahead of it.
pub fn render_api_version(
    version: crate::linkedin::version::ApiVersion,
    today: chrono::NaiveDate,
) -> String {
    use crate::linkedin::version::SUPPORT_MONTHS;
    let sunset = version.sunset(SUPPORT_MONTHS);
    let at = sunset
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp();
    let standing = version.standing(today).as_str();
    format!(
        "# HELP leadsync_linkedin_api_version_info The LinkedIn-Version sent, and where it stands (ACTIVE, SUNSET_SOON, RETIRED, UNKNOWN).\n\
         # TYPE leadsync_linkedin_api_version_info gauge\n\
         leadsync_linkedin_api_version_info{{version=\"{version}\",standing=\"{standing}\"}} 1\n\
         # HELP leadsync_linkedin_api_version_sunset_timestamp_seconds The version's expected sunset (LinkedIn answers 426 from then).\n\
         # TYPE leadsync_linkedin_api_version_sunset_timestamp_seconds gauge\n\
         leadsync_linkedin_api_version_sunset_timestamp_seconds{{version=\"{version}\"}} {at}\n\
         # HELP leadsync_linkedin_api_version_days_to_sunset Days from today (UTC) to the version's expected sunset.\n\
         # TYPE leadsync_linkedin_api_version_days_to_sunset gauge\n\
         leadsync_linkedin_api_version_days_to_sunset{{version=\"{version}\"}} {}\n",
        (sunset - today).num_days()
    )
}

/// The outbox's depth, read from the database at scrape time (the same on every instance).
pub fn render_webhook_queue(q: &crate::service::outbound::QueueDepth) -> String {
    format!(
        "# HELP leadsync_webhook_queue_depth Outbound webhook deliveries not yet finished, by status.\n\
         # TYPE leadsync_webhook_queue_depth gauge\n\
         leadsync_webhook_queue_depth{{status=\"pending\"}} {}\n\
         leadsync_webhook_queue_depth{{status=\"delivering\"}} {}\n\
         # HELP leadsync_webhook_overdue_seconds How long the most overdue pending delivery has been due (0: none).\n\
         # TYPE leadsync_webhook_overdue_seconds gauge\n\
         leadsync_webhook_overdue_seconds {}\n\
         # HELP leadsync_webhook_endpoints_disabled Outbound webhook endpoints disabled (by an administrator, by failing, or 410 Gone).\n\
         # TYPE leadsync_webhook_endpoints_disabled gauge\n\
         leadsync_webhook_endpoints_disabled {}\n",
        q.pending, q.delivering, q.overdue_secs, q.disabled_endpoints
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        count("leadsync_sync_runs_total", &[("status", "SUCCEEDED")], 2);
        observe(
            "leadsync_graphql_request_duration_seconds",
            &[("operation", "Leads")],
            Duration::from_millis(3),
        );
        let text = render();
        assert!(text.contains("# TYPE leadsync_sync_runs_total counter"));
        assert!(text.contains("leadsync_sync_runs_total{status=\"SUCCEEDED\"}"));
        assert!(text.contains(
            "leadsync_graphql_request_duration_seconds_bucket{operation=\"Leads\",le=\"0.005\"}"
        ));
        assert!(
            text.contains("leadsync_graphql_request_duration_seconds_count{operation=\"Leads\"}")
        );
    }
}
