//! The export function: the state machine's Plan and Verify steps (see the library for what they
//! do).

use lambda_glue as lambda;
use lambda_runtime::{service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::memory::tune();
    lambda::init_logs();
    let (deps, settings) = lambda::deps().await?;
    let boundary = settings.boundary()?;
    let config = export::Config {
        settings: &settings,
        boundary: &boundary,
        verify_step_seconds: export::verify::step_seconds_from_env()?,
    };
    lambda_runtime::run(service_fn(|event| export::handle(event, &deps, &config))).await
}
