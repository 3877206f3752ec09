//! The export function: the state machine's Plan step (see the library for what it does).

use lambda_glue as lambda;
use lambda_runtime::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda::init_logs();
    let (deps, settings) = lambda::deps().await?;
    let boundary = settings.boundary()?;
    lambda_runtime::run(service_fn(|event| {
        export::handle(event, &deps, &settings, &boundary)
    }))
    .await
}
