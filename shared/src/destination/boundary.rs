//! Where a destination may send data and read its segments from.
//!
//! The local command may use any http(s) URL and any path ([`Boundary::anywhere`]). A deployment
//! on AWS is different: whoever may call its HTTP API is not necessarily whoever may read its
//! buckets, so a destination there may only send to the hosts of the APIs it speaks
//! ([`ApiKind::api_hosts`]: Autopilot's `api2.autopilothq.com`, Ortto's three regional hosts) plus
//! the hosts the stack lists,
//! over https, and only read segments under the stack's snapshot bucket and prefix
//! ([`Boundary::deployment`]). Otherwise one API permission would be enough to export any object
//! the functions can read to a server of one's own.
//!
//! A host is not an account: anyone may hold a key of their own account on Autopilot's host. A
//! deployment may therefore also list the accounts exports may go to ([`Boundary::for_accounts`],
//! the stack's `AllowedAccounts`): a key of any other account is refused at connect and at key
//! rotation ([`Boundary::check_account`]), and a destination whose stored account is not listed
//! gets no export ([`Boundary::check_destination`]). With no list, any account is allowed.

use super::{Destination, Segment};
use crate::audience_api::ApiKind;
use crate::job_error::JobError;

/// The first parts of data-bucket keys that hold the connector's own data, never a snapshot.
const DATA_PREFIXES: [&str; 3] = ["destinations", "exports", "state"];

/// The URLs and snapshot sources a destination may use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Boundary {
    /// `None`: any http(s) URL.
    origins: Option<Vec<Origin>>,
    /// How many of `origins` are the APIs' own hosts (the rest are the stack's).
    own: usize,
    /// `None`: any path or `s3://` URL.
    snapshots: Option<SnapshotScope>,
    /// `None`: any account; else the ids (`Account::id`) of the only accounts allowed.
    accounts: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.scheme.as_str(), self.port) {
            ("https", 443) | ("http", 80) => write!(f, "{}://{}", self.scheme, self.host),
            _ => write!(f, "{}://{}:{}", self.scheme, self.host, self.port),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct SnapshotScope {
    /// `None`: the deployment names no snapshot bucket, so no segment can be read.
    bucket: Option<String>,
    /// Empty (the whole bucket) or ending in `/`.
    prefix: String,
    data_bucket: String,
}

impl Boundary {
    /// No limits: the local command.
    pub fn anywhere() -> Self {
        Self::default()
    }

    /// The limits of a deployment: https to every API's own hosts and to `allowed_hosts`
    /// (`host`, `host:port` — https — or `scheme://host:port`, the form tests use for a local
    /// sandbox); segments only under `s3://{snapshot_bucket}/{snapshot_prefix}` and never the
    /// connector's own objects in `data_bucket`. An allowed host that cannot be read is an error
    /// naming it.
    pub fn deployment(
        allowed_hosts: &[String],
        snapshot_bucket: Option<&str>,
        snapshot_prefix: &str,
        data_bucket: &str,
    ) -> Result<Self, String> {
        let mut origins: Vec<Origin> = (ApiKind::ALL.iter())
            .flat_map(|kind| kind.api_hosts())
            .map(|host| Origin {
                scheme: "https".into(),
                host: host.to_string(),
                port: 443,
            })
            .collect();
        let own = origins.len();
        for entry in allowed_hosts
            .iter()
            .map(|h| h.trim())
            .filter(|h| !h.is_empty())
        {
            let text = if entry.contains("://") {
                entry.to_string()
            } else {
                format!("https://{entry}")
            };
            let origin = url::Url::parse(&text)
                .ok()
                .filter(|u| u.username().is_empty() && u.password().is_none())
                .filter(|u| matches!(u.path(), "" | "/") && u.query().is_none())
                .and_then(|u| origin(&u))
                .ok_or_else(|| {
                    format!("the allowed API host '{entry}' is not a host name, host:port or scheme://host:port")
                })?;
            origins.push(origin);
        }
        let prefix = snapshot_prefix.trim().trim_start_matches('/');
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        Ok(Self {
            accounts: None,
            origins: Some(origins),
            own,
            snapshots: Some(SnapshotScope {
                bucket: snapshot_bucket
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(str::to_string),
                prefix,
                data_bucket: data_bucket.to_string(),
            }),
        })
    }

    /// The same boundary, allowing only the accounts whose ids `allowed` lists (blank entries
    /// ignored); an empty list allows any account.
    pub fn for_accounts(self, allowed: &[String]) -> Self {
        let ids: Vec<String> = allowed
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect();
        Self {
            accounts: (!ids.is_empty()).then_some(ids),
            ..self
        }
    }

    /// Whether exports may go to any account (no allow-list).
    pub fn any_account(&self) -> bool {
        self.accounts.is_none()
    }

    /// Refuses the account `account_id` of `api` (as its account answer gave it, or as a
    /// destination stored it) unless the allow-list holds it; with an allow-list, an account
    /// without an id is refused too.
    pub fn check_account(&self, api: ApiKind, account_id: Option<&str>) -> Result<(), JobError> {
        let Some(allowed) = &self.accounts else {
            return Ok(());
        };
        let name = api.vocabulary().api;
        match account_id.map(str::trim) {
            Some(id) if allowed.iter().any(|a| a == id) => Ok(()),
            Some(id) => Err(JobError::InvalidInput(format!(
                "the {name} account {id} is not one this deployment exports to (the stack's AllowedAccounts parameter): use a key of an allowed account, or ask the stack's operator to add this one"
            ))),
            None => Err(JobError::InvalidInput(format!(
                "{name} did not say which account the key belongs to, and this deployment exports only to the accounts of its AllowedAccounts parameter: try again, or use a key {name} names an account for"
            ))),
        }
    }

    /// Refuses a URL of `api` outside the boundary (and any URL that is not http(s)).
    pub fn check_url(&self, api: ApiKind, url: &str) -> Result<(), JobError> {
        let name = api.vocabulary().api;
        let parsed = url::Url::parse(url.trim()).map_err(|e| {
            JobError::InvalidInput(format!("'{url}' is not a valid {name} URL: {e}"))
        })?;
        if self.origins.is_none() {
            // Anywhere (the command): the client's own rule, https or http to this machine.
            crate::http_api::check_base_url(&parsed, name)?;
        }
        let Some(origin) = origin(&parsed) else {
            return Err(JobError::InvalidInput(format!(
                "'{url}' is not an http(s) URL"
            )));
        };
        let Some(allowed) = &self.origins else {
            return Ok(());
        };
        if parsed.username().is_empty() && parsed.password().is_none() && allowed.contains(&origin)
        {
            return Ok(());
        }
        let (own, others) = allowed.split_at(self.own.min(allowed.len()));
        let list = |origins: &[Origin]| {
            let shown: Vec<String> = origins.iter().map(Origin::to_string).collect();
            shown.join(", ")
        };
        Err(JobError::InvalidInput(format!(
            "{origin} is not an API this deployment sends data to: add it to the stack's AllowedAutopilotHosts parameter (now {}) or use {}, without a user name or password",
            if others.is_empty() { "none".to_string() } else { list(others) },
            list(own)
        )))
    }

    /// Refuses a segment whose snapshot lies outside the boundary.
    pub fn check_source(&self, segment: &Segment) -> Result<(), JobError> {
        self.check_snapshot(&segment.source).map_err(|message| {
            JobError::InvalidInput(format!(
                "the segment '{}' cannot be read: {message}",
                segment.name.trim()
            ))
        })
    }

    /// Why the snapshot at `source` lies outside the boundary, if it does.
    pub fn check_snapshot(&self, source: &str) -> Result<(), String> {
        let Some(scope) = &self.snapshots else {
            return Ok(());
        };
        let source = source.trim();
        let Some(bucket) = &scope.bucket else {
            return Err("this deployment names no snapshot bucket (the stack's SnapshotBucket parameter, SNAPSHOT_BUCKET)".into());
        };
        let inside = source
            .strip_prefix("s3://")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(b, key)| {
                b == bucket
                    && key.starts_with(&scope.prefix)
                    // A folder of parts ends in `/`; the bucket's root is one when the prefix is empty.
                    && (key.is_empty()
                        || crate::store::check_key(key.strip_suffix('/').unwrap_or(key)).is_ok())
                    && !(b == scope.data_bucket
                        && DATA_PREFIXES.contains(&key.split('/').next().unwrap_or_default()))
            });
        if inside {
            return Ok(());
        }
        Err(format!(
            "{source} is outside the snapshots this deployment reads: segments must be s3://{bucket}/{}… (the stack's SnapshotBucket and SnapshotPrefix parameters)",
            scope.prefix
        ))
    }

    /// Refuses a destination whose URL, account or any segment lies outside the boundary: one
    /// stored before the boundary was enforced, or written to the bucket by hand.
    pub fn check_destination(&self, destination: &Destination) -> Result<(), JobError> {
        self.check_url(destination.api, &destination.api_url)?;
        self.check_account(destination.api, destination.account_id.as_deref())?;
        destination
            .segments
            .iter()
            .try_for_each(|s| self.check_source(s))
    }
}

/// A URL's scheme, lower-case host and port, when it is http(s) with a host.
fn origin(url: &url::Url) -> Option<Origin> {
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    Some(Origin {
        scheme: url.scheme().to_string(),
        host: url.host_str()?.to_ascii_lowercase(),
        port: url.port_or_known_default()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(source: &str) -> Segment {
        Segment::new("VIP", source)
    }

    fn deployment(hosts: &[&str], prefix: &str) -> Boundary {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        Boundary::deployment(&hosts, Some("snapshots"), prefix, "data").unwrap()
    }

    #[test]
    fn anywhere_allows_every_http_url_and_path() {
        let any = Boundary::anywhere();
        for url in ["http://127.0.0.1:9/v1", "https://attacker.example/v1"] {
            any.check_url(ApiKind::Autopilot, url).unwrap();
        }
        assert!(any
            .check_url(ApiKind::Autopilot, "ftp://example.com/")
            .is_err());
        any.check_source(&segment("/home/me/vip.csv")).unwrap();
        any.check_source(&segment("s3://any/key.csv")).unwrap();
    }

    #[test]
    fn a_deployment_sends_only_to_autopilot_and_the_hosts_it_allows() {
        let aws = deployment(&["eu.example.com", "http://127.0.0.1:4010"], "");
        for url in [
            "https://api2.autopilothq.com/v1",
            "https://API2.autopilothq.com:443/v1/",
            "https://eu.example.com/v1",
            "http://127.0.0.1:4010/v1",
        ] {
            aws.check_url(ApiKind::Autopilot, url)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        // Ortto's three regions need no configuration.
        for url in [
            "https://api.ap3api.com",
            "https://api.au.ap3api.com/",
            "https://api.eu.ap3api.com",
        ] {
            aws.check_url(ApiKind::Ortto, url)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
        }
        let err = aws.check_url(ApiKind::Ortto, "https://api.us.ap3api.com");
        assert!(err.is_err());
        for url in [
            "https://attacker.example/v1",
            "http://api2.autopilothq.com/v1",
            "https://api2.autopilothq.com:8443/v1",
            "https://api2.autopilothq.com.attacker.example/v1",
            "https://api2.autopilothq.com@attacker.example/v1",
            "https://user:pw@api2.autopilothq.com/v1",
            "http://eu.example.com/v1",
            "http://127.0.0.1:4011/v1",
            "https://127.0.0.1:4010/v1",
        ] {
            let err = aws
                .check_url(ApiKind::Autopilot, url)
                .unwrap_err()
                .to_string();
            assert!(err.contains("AllowedAutopilotHosts"), "{url}: {err}");
            assert!(
                err.contains("or use https://api2.autopilothq.com, https://api.ap3api.com, https://api.au.ap3api.com, https://api.eu.ap3api.com,"),
                "{url}: {err}"
            );
            assert!(!err.contains("user:pw"), "{err}");
        }
        let none = deployment(&[], "");
        let err = none
            .check_url(ApiKind::Autopilot, "https://attacker.example/v1")
            .unwrap_err();
        assert!(err.to_string().contains("(now none)"), "{err}");
        for bad in ["https://h/path", "not a host", "ftp://h"] {
            let hosts = [bad.to_string()];
            assert!(
                Boundary::deployment(&hosts, None, "", "d").is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_deployment_reads_segments_only_under_its_snapshot_prefix() {
        let aws = deployment(&[], "segments");
        aws.check_source(&segment("s3://snapshots/segments/vip.csv"))
            .unwrap();
        aws.check_source(&segment("s3://snapshots/segments/2026/vip.csv.gz"))
            .unwrap();
        // Folders of parts, globs and data-lake models, and so the parts they name.
        for source in [
            "s3://snapshots/segments/unload/vip/",
            "s3://snapshots/segments/",
            "s3://snapshots/segments/unload/vip/part-*.parquet",
            "s3://snapshots/segments/ci/model.json#VipCustomers",
        ] {
            aws.check_source(&segment(source)).unwrap();
        }
        for source in [
            "s3://snapshots/segments/../exports/",
            "s3://snapshots/segments//",
            "s3://snapshots/",
            "s3://other-bucket/segments/vip.csv",
            "s3://snapshots/segments-old/vip.csv",
            "s3://snapshots/other/vip.csv",
            "s3://snapshots/segments/../exports/x/rejected.csv",
            "s3://snapshots/segments//vip.csv",
            "/home/me/vip.csv",
            "s3://snapshots",
        ] {
            let err = aws.check_source(&segment(source)).unwrap_err().to_string();
            assert!(err.contains("s3://snapshots/segments/…"), "{source}: {err}");
            assert_eq!(JobError::InvalidInput(err).type_name(), "InvalidInput");
        }
    }

    #[test]
    fn the_connectors_own_objects_are_never_a_snapshot() {
        let hosts: Vec<String> = Vec::new();
        let same = Boundary::deployment(&hosts, Some("data"), "", "data").unwrap();
        same.check_source(&segment("s3://data/snapshots/vip.csv"))
            .unwrap();
        // With an empty prefix the bucket's root is listed; the connector's folders never are.
        same.check_source(&segment("s3://data/")).unwrap();
        for key in [
            "destinations/a.json",
            "exports/a/e/rejected.csv",
            "state/a/baseline.json",
            "exports/",
        ] {
            assert!(same
                .check_source(&segment(&format!("s3://data/{key}")))
                .is_err());
        }
        let unset = Boundary::deployment(&hosts, None, "", "data").unwrap();
        let err = unset.check_source(&segment("s3://data/x.csv")).unwrap_err();
        assert!(err.to_string().contains("SnapshotBucket"), "{err}");
    }

    #[test]
    fn an_account_list_allows_only_its_accounts_and_none_without_an_id() {
        let any = deployment(&[], "");
        assert!(any.any_account());
        any.check_account(ApiKind::Autopilot, Some("99")).unwrap();
        any.check_account(ApiKind::Autopilot, None).unwrap();
        let listed = [" 1 ".to_string(), "".into(), "42".into()];
        let two = deployment(&[], "").for_accounts(&listed);
        assert!(!two.any_account());
        two.check_account(ApiKind::Autopilot, Some("1")).unwrap();
        two.check_account(ApiKind::Autopilot, Some("42")).unwrap();
        for other in [Some("4"), Some("142"), Some(""), None] {
            let err = two.check_account(ApiKind::Autopilot, other).unwrap_err();
            assert!(err.to_string().contains("AllowedAccounts"), "{err}");
        }
        let blank = deployment(&[], "").for_accounts(&[" ".to_string()]);
        assert!(blank.any_account(), "blank entries list nothing");
    }
}
