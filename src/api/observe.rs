//! Request ids, access logs and Prometheus metrics for every request.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Data;

use crate::domain::denial::DenialLog;
use crate::logging::REQUEST_ID;
use crate::service::{audit_log, Gate};

const REQUEST_ID_HEADER: &str = "x-request-id";

/// Keeps a caller's request id when it is short and plain, else makes one.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= 64
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        })
        .map(str::to_string)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string())
}

/// Middleware: assigns the request id, times the request, logs one line
/// (method, path without query string, status, duration: never bodies,
/// tokens or passwords) and records metrics by route pattern.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request_id(&req);
    let started = Instant::now();
    let method = req.method().to_string();
    let mut path = req.path().to_string();
    let metrics = req.app_data::<Data<Metrics>>().cloned();
    let denials = DenialLog::default();
    let result = REQUEST_ID
        .scope(id.clone(), denials.clone().scope(next.call(req)))
        .await;
    let elapsed = started.elapsed();
    match result {
        Ok(mut res) => {
            audit_denials(&res, &denials, &id).await;
            let status = res.status().as_u16();
            let route = res
                .request()
                .match_pattern()
                .unwrap_or_else(|| "unmatched".to_string());
            if let Some(m) = metrics {
                m.record(&method, &route, status, elapsed.as_secs_f64());
            }
            // Tokens in paths (`/accounts/{token}/join`) stay out of logs.
            if let Some(token) = res.request().match_info().get("token") {
                if !token.is_empty() {
                    path = path.replace(token, "[token]");
                }
            }
            if let Ok(v) = HeaderValue::from_str(&id) {
                res.headers_mut()
                    .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
            }
            log::info!(
                target: "ithbat::access",
                "[{id}] {method} {path} {status} {:.1}ms",
                elapsed.as_secs_f64() * 1000.0
            );
            Ok(res)
        }
        Err(e) => {
            log::warn!(target: "ithbat::access", "[{id}] {method} {path} failed: {e}");
            Err(e)
        }
    }
}

/// Writes the request's authorization refusals to the audit log
/// (`authz.denied`) before the answer leaves, so that a client reading the
/// log next sees them.
async fn audit_denials<B>(res: &ServiceResponse<B>, denials: &DenialLog, id: &str) {
    let noted = denials.take();
    if noted.is_empty() {
        return;
    }
    let Some(gate) = res.request().app_data::<Data<Gate>>().cloned() else {
        return;
    };
    let origin = crate::api::extract::origin_of(res.request());
    let written = REQUEST_ID
        .scope(
            id.to_string(),
            gate.run(
                move |app| async move { audit_log::record_denials(&app, noted, &origin).await },
            ),
        )
        .await;
    if let Err(e) = written {
        log::error!("[{id}] authorization refusals not audited: {e}");
    }
}

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

#[derive(Default, Clone)]
struct Series {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and latency histograms by method, route and status.
#[derive(Default)]
pub struct Metrics {
    series: Mutex<BTreeMap<(String, String, u16), Series>>,
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
        let s = series
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += seconds;
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                s.buckets[i] += 1;
            }
        }
    }

    /// Prometheus text exposition format.
    pub fn render(&self, pool: (usize, usize)) -> String {
        let series = self
            .series
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut out = String::new();
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        out.push_str("# HELP ithbat_http_requests_total HTTP requests served.\n# TYPE ithbat_http_requests_total counter\n");
        for ((method, route, status), s) in &series {
            let _ = writeln!(
                out,
                "ithbat_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {}",
                esc(route),
                s.count
            );
        }
        out.push_str(
            "# HELP ithbat_http_request_duration_seconds HTTP request latency.\n# TYPE ithbat_http_request_duration_seconds histogram\n",
        );
        for ((method, route, status), s) in &series {
            let labels = format!(
                "method=\"{method}\",route=\"{}\",status=\"{status}\"",
                esc(route)
            );
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "ithbat_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "ithbat_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "ithbat_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "ithbat_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        let (open, idle) = pool;
        out.push_str("# HELP ithbat_db_connections Database pool connections.\n# TYPE ithbat_db_connections gauge\n");
        let _ = writeln!(out, "ithbat_db_connections{{state=\"idle\"}} {idle}");
        let _ = writeln!(
            out,
            "ithbat_db_connections{{state=\"in_use\"}} {}",
            open.saturating_sub(idle)
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_histograms() {
        let m = Metrics::default();
        m.record("GET", "/api/v1/users/me", 200, 0.003);
        m.record("GET", "/api/v1/users/me", 200, 0.2);
        let text = m.render((4, 3));
        assert!(text.contains("ithbat_http_requests_total{method=\"GET\",route=\"/api/v1/users/me\",status=\"200\"} 2"));
        assert!(text.contains("le=\"0.005\"} 1"));
        assert!(text.contains("le=\"+Inf\"} 2"));
        assert!(text.contains("ithbat_db_connections{state=\"in_use\"} 1"));
    }
}
