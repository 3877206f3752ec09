//! The suites run against each API's sandbox: [`crate::for_each_api!`] makes, of a test function
//! taking an [`ApiKind`], one test per API (`autopilot::NAME`, `ortto::NAME`). Everything a test
//! asks of the sandbox goes through here in the same words whatever the API: the sandbox of an
//! API ([`sandbox_of`]), a destination connected to it with the right `api` ([`destination`]), the
//! members of a segment's audience ([`members`]: Autopilot's list, the people carrying Ortto's
//! tag), a contact's field by the name data matching gives it ([`field`]).
//!
//! What is truly one API's is said here once, from the port where it tells it (batch sizes come
//! from [`ApiKind::limits`]) and as the sandbox's contract says otherwise: the members a page
//! holds, the requests before the first page, what a change of membership writes, the reason code
//! of a contact the API refuses, and where each field the suites map lands. A field the suites do not map panics, naming this file.

use crate::{TestDestination, KEY};
use sandbox::{Api, Sandbox, SandboxConfig};
use serde_json::Value;
use std::collections::HashSet;

pub use shared::audience_api::ApiKind;

/// Each test function named (an `async fn(ApiKind)` in scope) once against each API's sandbox.
#[macro_export]
macro_rules! for_each_api {
    ($($test:ident)*) => {
        mod autopilot { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test($crate::apis::ApiKind::Autopilot).await }
        )* }
        mod ortto { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() { super::$test($crate::apis::ApiKind::Ortto).await }
        )* }
    };
}

/// Starts `api`'s sandbox accepting [`KEY`] (Ortto's in its global region), changed by `config`.
pub async fn sandbox_of(
    api: ApiKind,
    config: impl FnOnce(SandboxConfig) -> SandboxConfig,
) -> Sandbox {
    let base = match api {
        ApiKind::Autopilot => SandboxConfig::with_key(KEY),
        ApiKind::Ortto => SandboxConfig::ortto(KEY),
    };
    Sandbox::start(config(base), 0)
        .await
        .expect("the sandbox starts on a free port")
}

/// The API `sandbox` imitates.
pub fn kind_of(sandbox: &Sandbox) -> ApiKind {
    match sandbox.api() {
        Api::Autopilot => ApiKind::Autopilot,
        Api::Ortto(_) => ApiKind::Ortto,
    }
}

/// A destination exporting to `sandbox`, with its API.
pub fn destination(sandbox: &Sandbox) -> TestDestination {
    TestDestination::new(sandbox.base_url()).api(kind_of(sandbox))
}

/// The members of the audience of the segment `segment` (Autopilot: the list; Ortto: the people
/// carrying the tag), lowercased; none when there is no such audience.
pub fn members(sandbox: &Sandbox, segment: &str) -> HashSet<String> {
    let mut members = HashSet::new();
    sandbox.for_each_member(segment, |m| {
        members.insert(m.to_lowercase());
    });
    members
}

/// The sandbox's id of the audience of `segment` (what its by-hand calls take).
pub fn audience_id(sandbox: &Sandbox, segment: &str) -> String {
    let state = sandbox.state();
    let audience = state.list(segment).expect("the segment's audience exists");
    audience.list_id.clone()
}

/// The contact with this address (any case), as the sandbox shows it.
pub fn contact(sandbox: &Sandbox, email: &str) -> Option<Value> {
    let state = sandbox.state();
    let same = |v: &Value| v.as_str().is_some_and(|e| e.eq_ignore_ascii_case(email));
    let found = (state.contacts.iter()).find(|c| same(&c["Email"]) || same(&c["email"]));
    found.cloned()
}

/// The value of the field data matching calls `field` (`FirstName`, `integer--Age`) of the
/// contact `email`, wherever its API keeps it; `Null` when it has none.
pub fn field(sandbox: &Sandbox, email: &str, field: &str) -> Value {
    let contact = contact(sandbox, email).expect("the contact exists");
    match kind_of(sandbox) {
        ApiKind::Autopilot if field.contains("--") => contact["custom"][field].clone(),
        ApiKind::Autopilot => contact[field].clone(),
        ApiKind::Ortto => contact["fields"][ortto_field(field)].clone(),
    }
}

/// The Ortto id of each field the suites map (the mapping itself is tested in `ortto.rs`).
fn ortto_field(field: &str) -> &'static str {
    match field {
        "FirstName" => "str::first",
        "integer--Age" => "int:cm:age",
        "string--Tier" => "str:cm:tier",
        other => panic!("tests/support/apis.rs does not know Ortto's id of '{other}'"),
    }
}

/// Contacts (and removals) in one write request: the port's batch.
pub fn batch(api: ApiKind) -> usize {
    api.limits().batch_size
}

/// Members in one page read back: Autopilot's 100, Ortto's 500 (`person/get`'s `limit`).
pub fn member_page(api: ApiKind) -> usize {
    match api {
        ApiKind::Autopilot => 100,
        ApiKind::Ortto => 500,
    }
}

/// Pages to read `members` members whole (an empty audience is one page).
pub fn pages(api: ApiKind, members: usize) -> u64 {
    members.div_ceil(member_page(api)).max(1) as u64
}

/// Requests before an audience's first page: Ortto looks its tag's id up by name.
pub fn lookups(api: ApiKind) -> u64 {
    match api {
        ApiKind::Autopilot => 0,
        ApiKind::Ortto => 1,
    }
}

/// What the sandbox counts as contacts written when `people` only join or leave an audience:
/// Ortto gives and takes a tag in a merge (the person's address and `tags` or `unset_tags`,
/// nothing else), Autopilot's list calls write no contact.
pub fn membership_writes(api: ApiKind, people: u64) -> u64 {
    match api {
        ApiKind::Autopilot => 0,
        ApiKind::Ortto => people,
    }
}

/// The reason code `rejected.csv` gives a contact the API refused (users' scripts parse it).
pub fn refused_reason(api: ApiKind) -> &'static str {
    match api {
        ApiKind::Autopilot => "rejected_by_autopilot",
        ApiKind::Ortto => "rejected_by_ortto",
    }
}
