//! Reading destinations, and the one change to a destination that is not a configuration: who its
//! exports run as.

use crate::destination::{self, Destination};
use crate::jobs::connect::check_name;
use crate::store::get_json;
use crate::{Deps, JobError};

/// Every connected destination, ordered by id.
pub async fn list(deps: &Deps) -> Result<Vec<Destination>, JobError> {
    let store = deps.store.as_ref();
    let mut found = Vec::new();
    for key in store.list(&crate::store::keys::destinations_dir()).await? {
        if let Some(d) = get_json::<Destination>(store, &key).await? {
            found.push(d);
        }
    }
    found.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(found)
}

/// One destination, or `NotFound` naming it.
pub async fn read(deps: &Deps, id: &str) -> Result<Destination, JobError> {
    destination::load(deps.store.as_ref(), id).await
}

/// Records who the destination's exports run as (the "Export user" step after connecting).
pub async fn set_export_user(deps: &Deps, id: &str, user: &str) -> Result<(), JobError> {
    let user = check_name("export user", user)?;
    if user.is_empty() {
        return Err(JobError::InvalidInput(
            "give the export user: who the exports run as".into(),
        ));
    }
    let mut destination = read(deps, id).await?;
    destination.consent.export_user = user.to_string();
    destination::save(deps.store.as_ref(), &destination).await
}
