//! Ortto's gate around the shared one: the bad-request ban and the per-address windows before it,
//! the region and the merge concurrency limit beside it, and after the handler, any 4xx but 429
//! counted toward the ban (401s apart from the others, as Ortto counts bad credentials apart).
//! Every request is counted by endpoint first, whatever its fate.

use super::{error, prefix, AppState, CALLS, KEY_HEADER};
use crate::config::Region;
use crate::gate::{self, Dialect, Key};
use crate::limits::Bad;
use crate::server::Peer;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const DIALECT: Dialect = Dialect {
    key_header: KEY_HEADER,
    missing_key: (StatusCode::UNAUTHORIZED, "The X-Api-Key header is missing"),
    wrong_key: "Invalid API key",
    outage: "Service unavailable",
    server_error: "Internal server error",
    throttled: "rate limit",
    error,
};

/// The region a path addresses (its prefix, or the sandbox's own for a bare `/v1/…`) and the path
/// without the prefix.
fn region_of(path: &str, home: Region) -> (Region, &str) {
    for region in Region::ALL {
        let prefix = prefix(region);
        if let Some(rest) = path.strip_prefix(prefix.as_str()) {
            if rest.starts_with("/v1/") {
                return (region, rest);
            }
        }
    }
    (home, path)
}

/// A merge in progress for a key, forgotten when its answer is done (or dropped).
struct InFlight {
    shared: AppState,
    key: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut control = self.shared.control();
        if let Some(n) = control.merges_in_flight.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                control.merges_in_flight.remove(&self.key);
            }
        }
    }
}

pub(super) async fn gate(
    State((shared, home)): State<(AppState, Region)>,
    request: Request,
    next: Next,
) -> Response {
    let now = Instant::now();
    let ip = request
        .extensions()
        .get::<Peer>()
        .map_or(IpAddr::V4(Ipv4Addr::LOCALHOST), |p| p.0.ip());
    let (region, path) = region_of(request.uri().path(), home);
    let endpoint = CALLS.iter().find(|c| **c == path).copied();
    let admitted = {
        let mut control = shared.control();
        let counters = &mut control.counters;
        counters.requests += 1;
        *counters
            .by_endpoint
            .entry(endpoint.unwrap_or("other").to_string())
            .or_default() += 1;
        if let Some(left) = control.bans.remaining(ip, now) {
            control.counters.banned += 1;
            return banned(control.ortto.ban_status, control.retry_after_header, left);
        }
        let rules = control.ortto.address_limits.clone();
        if let Err(wait) = control.addresses.admit(ip, &rules, now) {
            control.counters.throttled += 1;
            return gate::throttled(&DIALECT, control.retry_after_header, wait);
        }
        let key = match Key::of(&DIALECT, request.headers(), &control) {
            Key::Accepted(_) if region != home => Key::Wrong,
            key => key,
        };
        gate::admit(&mut control, &DIALECT, &key, now).and_then(|fault| {
            let in_flight = match (&key, endpoint, control.ortto.merge_concurrency) {
                (Key::Accepted(k), Some("/v1/person/merge"), Some(limit)) => {
                    let n = control.merges_in_flight.entry(k.clone()).or_default();
                    if *n >= limit {
                        control.counters.throttled += 1;
                        let wait = Duration::from_secs(1);
                        return Err(gate::throttled(&DIALECT, control.retry_after_header, wait));
                    }
                    *n += 1;
                    Some(InFlight {
                        shared: shared.clone(),
                        key: k.clone(),
                    })
                }
                _ => None,
            };
            Ok((fault, in_flight))
        })
    };
    let response = match admitted {
        Err(response) => response,
        Ok((fault, in_flight)) => {
            let response = gate::run(&shared, request, next, fault).await;
            drop(in_flight);
            response
        }
    };
    count_bad(&shared, ip, response.status(), now);
    response
}

/// Counts a 4xx but 429 toward the ban, and starts a ban when it is the last straw.
fn count_bad(shared: &AppState, ip: IpAddr, status: StatusCode, now: Instant) {
    if !status.is_client_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return;
    }
    let bad = match status {
        StatusCode::UNAUTHORIZED => Bad::Credentials,
        _ => Bad::Request,
    };
    let mut control = shared.control();
    control.counters.bad_requests += 1;
    if let Some(rule) = control.ortto.ban {
        if control.bans.record(ip, bad, &rule, now) {
            control.counters.bans += 1;
        }
    }
}

/// The answer to a banned address: a 429 asking to wait out the ban, or a 403.
fn banned(status: u16, retry_after_header: bool, left: Duration) -> Response {
    if status == StatusCode::FORBIDDEN.as_u16() {
        let secs = left.as_secs_f64().ceil().max(1.0);
        let text = format!(
            "Too many bad requests from this address: it is blocked for {secs} more seconds"
        );
        error(StatusCode::FORBIDDEN, &text)
    } else {
        gate::throttled(&DIALECT, retry_after_header, left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_prefix_names_the_region_and_a_bare_path_is_the_sandboxs_own() {
        let home = Region::Au;
        assert_eq!(
            region_of("/v1/tags/get", home),
            (Region::Au, "/v1/tags/get")
        );
        assert_eq!(
            region_of("/eu/v1/tags/get", home),
            (Region::Eu, "/v1/tags/get")
        );
        assert_eq!(
            region_of("/global/v1/person/merge", home),
            (Region::Global, "/v1/person/merge")
        );
        assert_eq!(region_of("/euv1/x", home), (Region::Au, "/euv1/x"));
        assert_eq!(region_of("/eu/other", home), (Region::Au, "/eu/other"));
    }
}
