//! An Autopilot-compatible HTTP server: the stand-in for Autopilot in the demo and in every test.
//!
//! It serves the calls of Autopilot's REST API v1 under `/v1` with Autopilot's rules (key header,
//! at most 100 contacts per bulk upsert, one invalid contact fails the whole request, typed custom
//! fields, lists and members with bookmark paging), a per-key token-bucket rate limit answering 429
//! with `Retry-After` and `{"error": {"try-in-seconds": n}}`, and injected faults. Unlike Autopilot
//! it also refuses any address in the reserved `.invalid` domain, as Autopilot may refuse addresses
//! for reasons a client cannot check, so the rejected-by-Autopilot path is exercised end to end.
//! Like Autopilot's documentation, its 400 says what is wrong but not with which contact; an
//! admin setting (`PUT /admin/refusals {"name_refused": "position"}` or `"email"`, default
//! `"none"`) makes it name the contact, by its JSON path in the request (`contacts[3]: …`) or by
//! its address (`"position_from_one"` counts from 1, an answer a client must not misread).
//!
//! `/admin` (no key, no limit) shows the state and counters, changes faults, keys and refusal
//! naming at run time, and does what a person does by hand in Autopilot (unsubscribe a contact,
//! take a member off a list, delete a list).

// Handlers return ready HTTP responses as their errors, the way axum is meant to be used.
#![allow(clippy::result_large_err)]

mod api;
pub mod limits;
pub mod store;

pub use api::RefusalNaming;
pub use limits::{Counters, Faults};
pub use store::{ListSnapshot, StateSnapshot};

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// How a sandbox starts.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Keys that are accepted; anything else is answered 401.
    pub api_keys: Vec<String>,
    /// Requests per second per key; `None` for no limit.
    pub rate: Option<f64>,
    /// Tokens a key may bank; one second's worth by default.
    pub burst: Option<f64>,
    /// Whether 429 answers carry a `Retry-After` header (the body always has `try-in-seconds`).
    pub retry_after_header: bool,
    pub faults: Faults,
}

impl SandboxConfig {
    /// One key, no rate limit, no faults.
    pub fn with_key(key: &str) -> Self {
        Self {
            api_keys: vec![key.to_string()],
            rate: None,
            burst: None,
            retry_after_header: true,
            faults: Faults::default(),
        }
    }

    pub fn rate(mut self, rate: f64) -> Self {
        self.rate = Some(rate);
        self
    }

    pub fn faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }
}

pub(crate) struct Shared {
    pub store: Mutex<store::Store>,
    pub control: Mutex<api::Control>,
}

impl Shared {
    pub(crate) fn store(&self) -> std::sync::MutexGuard<'_, store::Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn control(&self) -> std::sync::MutexGuard<'_, api::Control> {
        self.control.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

/// A connection-level handle a handler uses to drop its connection without answering.
#[derive(Clone)]
pub(crate) struct ConnectionKill(pub Arc<Notify>);

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1:port` (0 picks a free port).
    pub async fn start(config: SandboxConfig, port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            store: Mutex::new(store::Store::default()),
            control: Mutex::new(api::Control::new(&config)),
        });
        let router = api::router(shared.clone());
        let (stop, stopped) = watch::channel(false);
        let server = tokio::spawn(serve(listener, router, stopped));
        Ok(Self {
            addr,
            shared,
            stop,
            server,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL a destination uses to talk to this sandbox.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn state(&self) -> StateSnapshot {
        self.shared.store().snapshot()
    }

    /// Calls `visit` with the address (as first written) of every member of the first list
    /// titled `title`, in id order, copying nothing; whether there is such a list. What
    /// [`Sandbox::state`] says of a list, without a copy of every contact.
    pub fn for_each_member(&self, title: &str, visit: impl FnMut(&str)) -> bool {
        self.shared.store().for_each_member(title, visit)
    }

    pub fn counters(&self) -> Counters {
        api::counters(&self.shared)
    }

    /// Replaces the injected faults (their timers start now).
    pub fn set_faults(&self, faults: Faults) {
        self.shared.control().set_faults(faults);
    }

    /// Whether a 400 refusing a bulk upsert names the contact at fault (by default it names
    /// nobody, as Autopilot promises nothing more). The same as `PUT /admin/refusals`.
    pub fn set_refusal_naming(&self, naming: RefusalNaming) {
        self.shared.control().refusal_naming = naming;
    }

    /// Replaces the accepted keys; a key left out is revoked from the next request on.
    pub fn set_api_keys(&self, keys: Vec<String>) {
        self.shared.control().api_keys = keys;
    }

    /// Creates a list directly, as a person in Autopilot's interface would.
    pub fn create_list(&self, title: &str) -> String {
        self.shared.store().create_list(title)
    }

    /// Renames a list directly, as a person would (to the connector, the old list is gone).
    pub fn rename_list(&self, title: &str, new_title: &str) {
        let mut store = self.shared.store();
        let id = store
            .lists()
            .iter()
            .find(|(_, l)| l.title == title)
            .map(|(id, _)| id.clone());
        if let Some(list) = id.and_then(|id| store.list_mut(&id)) {
            list.title = new_title.to_string();
        }
    }

    /// Puts an email on a list directly (creating the contact), as a person would by hand.
    pub fn add_member_by_hand(&self, list_id: &str, email: &str) -> Result<(), String> {
        let mut store = self.shared.store();
        let input =
            store.validate(&serde_json::json!({"Email": email, "_autopilot_list": list_id}))?;
        store.apply(input);
        Ok(())
    }

    /// Marks a contact unsubscribed, as the contact would by following an unsubscribe link;
    /// whether there is such a contact. The same as `POST /admin/contacts/{id}/unsubscribe`.
    pub fn unsubscribe_by_hand(&self, email_or_id: &str) -> bool {
        self.shared.store().set_unsubscribed(email_or_id, true)
    }

    /// Takes a member off a list by hand; whether it was on it. The same as
    /// `DELETE /admin/lists/{list}/members/{id}`.
    pub fn remove_member_by_hand(&self, list_id: &str, email_or_id: &str) -> bool {
        self.shared.store().remove_member(list_id, email_or_id)
    }

    /// Deletes a list by hand (its contacts stay); whether there was one. The same as
    /// `DELETE /admin/lists/{list}`.
    pub fn delete_list_by_hand(&self, list_id: &str) -> bool {
        self.shared.store().delete_list(list_id)
    }

    /// Stops accepting connections and waits for the server task.
    pub async fn stop(mut self) {
        let _ = self.stop.send(true);
        let _ = (&mut self.server).await;
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn serve(listener: TcpListener, router: axum::Router, mut stopped: watch::Receiver<bool>) {
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            },
            _ = stopped.changed() => return,
        };
        let kill = Arc::new(Notify::new());
        let handle = ConnectionKill(kill.clone());
        let service = router.clone().map_request(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(handle.clone());
                req
            },
        );
        let mut stopped = stopped.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            tokio::select! {
                _ = conn => {}
                _ = kill.notified() => {}
                _ = stopped.changed() => {}
            }
        });
    }
}
