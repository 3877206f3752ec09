//! A running sandbox: the router of its API (Autopilot's or Ortto's) and of `/admin`, the server
//! loop on 127.0.0.1, and the handle tests and the demo use in-process — its state and counters,
//! run-time changes, and what a person does by hand in the API's interface.

use crate::boundary::{self, AdminToken};
use crate::config::{Api, SandboxConfig};
use crate::control::Shared;
use crate::limits::{Counters, Faults};
use crate::ortto::OrttoSettings;
use crate::store::{Flag, StateSnapshot};
use crate::{admin, autopilot, ortto, RefusalNaming};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// A connection-level handle a handler uses to drop its connection without answering.
#[derive(Clone)]
pub(crate) struct ConnectionKill(pub Arc<Notify>);

/// The address of the client a request came from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub SocketAddr);

/// The API's routes and `/admin` (behind its token), for this sandbox's API, all behind the
/// boundary that refuses requests from off the machine or from web pages.
pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    let api = shared.control().api;
    let (calls, by_hand) = match api {
        Api::Autopilot => (autopilot::api(shared.clone()), autopilot::by_hand()),
        Api::Ortto(region) => (ortto::api(shared.clone(), region), ortto::by_hand()),
    };
    let admin = admin::routes()
        .merge(by_hand)
        .fallback(|| async {
            admin::error(axum::http::StatusCode::NOT_FOUND, "No such admin route")
        })
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            boundary::admin_token,
        ));
    axum::Router::new()
        .nest("/admin", admin)
        .merge(calls)
        .layer(axum::middleware::from_fn(boundary::from_this_machine))
        .with_state(shared)
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
}

impl Sandbox {
    /// Starts a sandbox on `127.0.0.1:port` (0 picks a free port), with the configuration's admin
    /// token or a random one.
    pub async fn start(config: SandboxConfig, port: u16) -> std::io::Result<Self> {
        let admin_token = match &config.admin_token {
            Some(token) => token.clone(),
            None => AdminToken::generate()?,
        };
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(&config, admin_token));
        let router = router(shared.clone());
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

    /// The token `/admin` requires over HTTP, as `Authorization: Bearer TOKEN` (this handle's
    /// methods need none).
    pub fn admin_token(&self) -> &str {
        self.shared.admin_token.as_str()
    }

    /// The API this sandbox imitates.
    pub fn api(&self) -> Api {
        self.shared.control().api
    }

    /// The base URL a destination uses to talk to this sandbox: Autopilot's `http://ADDR/v1`;
    /// for Ortto the stand-in of its region's host, `http://ADDR` (calls go to `/v1/…`).
    pub fn base_url(&self) -> String {
        match self.api() {
            Api::Autopilot => format!("http://{}/v1", self.addr),
            Api::Ortto(_) => format!("http://{}", self.addr),
        }
    }

    /// Every contact and group (Autopilot's lists, Ortto's tags).
    pub fn state(&self) -> StateSnapshot {
        self.shared.store().snapshot()
    }

    /// Calls `visit` with the address (as first written) of every member of the first list (Ortto:
    /// tag) titled `title`, in id order, copying nothing; whether there is one. What
    /// [`Sandbox::state`] says of a list, without a copy of every contact.
    pub fn for_each_member(&self, title: &str, visit: impl FnMut(&str)) -> bool {
        self.shared.store().for_each_member(title, visit)
    }

    pub fn counters(&self) -> Counters {
        self.shared.counters()
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

    /// Ortto's settings for what its documentation leaves open.
    pub fn ortto_settings(&self) -> OrttoSettings {
        self.shared.control().ortto.clone()
    }

    /// Replaces Ortto's settings (what `PUT /admin/settings` changes), forgetting every address's
    /// requests, bad requests and ban; settings that make no sense are refused with the reason.
    pub fn set_ortto_settings(&self, settings: OrttoSettings) -> Result<(), String> {
        settings.check()?;
        let mut control = self.shared.control();
        control.ortto = settings;
        control.addresses.clear();
        control.bans.clear();
        Ok(())
    }

    /// Whether 429 answers carry a `Retry-After` header.
    pub fn set_retry_after_header(&self, on: bool) {
        self.shared.control().retry_after_header = on;
    }

    /// Creates a list (Ortto: a tag) directly, as a person in the API's interface would; its id.
    pub fn create_list(&self, title: &str) -> String {
        let api = self.api();
        let mut store = self.shared.store();
        match api {
            Api::Autopilot => store.create_list(title),
            Api::Ortto(_) => ortto::tag_for(&mut store, title, true),
        }
    }

    /// Renames a list (Ortto: a tag) directly, as a person would (to the connector, the old one is
    /// gone).
    pub fn rename_list(&self, title: &str, new_title: &str) {
        let mut store = self.shared.store();
        let id = store.list_id(title).map(str::to_string);
        if let Some(list) = id.and_then(|id| store.list_mut(&id)) {
            list.title = new_title.to_string();
        }
    }

    /// Puts an email on a list (Ortto: gives the person a tag) directly, creating the contact (an
    /// Ortto person created so is subscribed, as one created through the API), as a person would
    /// by hand.
    pub fn add_member_by_hand(&self, list_id: &str, email: &str) -> Result<(), String> {
        let api = self.api();
        let mut store = self.shared.store();
        match api {
            Api::Autopilot => {
                let contact = serde_json::json!({"Email": email, "_autopilot_list": list_id});
                let input = store.validate(&contact)?;
                store.apply(input);
                Ok(())
            }
            Api::Ortto(_) => ortto::tag_by_hand(&mut store, list_id, email),
        }
    }

    /// Marks a contact unsubscribed (Ortto: `bol::p` false), as the contact would by following an
    /// unsubscribe link; whether there is such a contact. The same as `POST
    /// /admin/contacts/{id}/unsubscribe` (Ortto: `/admin/people/{id}/unsubscribe`).
    pub fn unsubscribe_by_hand(&self, email_or_id: &str) -> bool {
        self.shared.store().set_unsubscribed(email_or_id, true)
    }

    /// Takes a member off a list (Ortto: a tag off a person) by hand; whether it was on it. The
    /// same as `DELETE /admin/lists/{list}/members/{id}` (Ortto:
    /// `/admin/people/{id}/tags/{tag}`).
    pub fn remove_member_by_hand(&self, list_id: &str, email_or_id: &str) -> bool {
        self.shared.store().remove_member(list_id, email_or_id)
    }

    /// Deletes a list (Ortto: a tag) by hand (its contacts stay); whether there was one. The same
    /// as `DELETE /admin/lists/{list}` (Ortto: `/admin/tags/{tag}`).
    pub fn delete_list_by_hand(&self, list_id: &str) -> bool {
        self.shared.store().delete_list(list_id)
    }

    /// Ortto: deletes a person by hand (fields and tags go; a later merge creates a new person);
    /// whether there was one. The same as `DELETE /admin/people/{id}`.
    pub fn delete_person_by_hand(&self, email_or_id: &str) -> bool {
        let mut store = self.shared.store();
        store.find(email_or_id).is_some_and(|at| store.delete(at))
    }

    /// Ortto: puts an address on the email suppression list by hand. The same as `PUT
    /// /admin/suppressions/{email}`.
    pub fn suppress_by_hand(&self, email: &str) {
        self.shared.store().ortto.suppress(email);
    }

    /// Whether the contact (by address or id) is unsubscribed (Ortto: `bol::p` false); `None` if
    /// there is no such contact.
    pub fn is_unsubscribed(&self, email_or_id: &str) -> Option<bool> {
        let store = self.shared.store();
        let at = store.find(email_or_id)?;
        Some(store.flag(at, Flag::Unsubscribed))
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
        let (stream, peer) = tokio::select! {
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
                req.extensions_mut().insert(Peer(peer));
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
