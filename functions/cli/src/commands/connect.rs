//! `autopilot-export connect --name NAME --agree [--api ortto [--region R] [--update-only]]`:
//! validates an API key (from an environment variable or stdin) against the destination's API and
//! stores it with a new destination.

use super::Context;
use crate::args::ConnectArgs;
use crate::failure::{BoxError, InvalidInput, Outcome};
use crate::output;
use secrecy::SecretString;
use shared::app::audit::Action;
use shared::jobs::connect;
use std::io::Read;

pub async fn run(ctx: &Context, args: ConnectArgs) -> Result<Outcome, BoxError> {
    if !args.agree {
        return Err(InvalidInput("consent is required: exported profiles leave your platform's compliance boundary. Read the data-privacy notice and pass --agree to connect".into()).into());
    }
    let api_key = read_key(&args.api_key_env, args.api_key_stdin)?;
    let label = args.export_user.clone();
    let input = connect::Input {
        display_name: args.name,
        api_key,
        consent: args.agree,
        export_user: args.export_user.or_else(|| std::env::var("USER").ok()),
        api: args.api,
        api_url: args.api_url,
        requests_per_second: args.requests_per_second,
        region: args.region,
        update_only: args.update_only,
    };
    let out = connect::run(input, &ctx.deps).await?;
    let recorded = ctx.record(
        Action::Connect,
        &out.destination_id,
        "API key checked and stored",
        label.as_deref(),
    );
    recorded.await?;
    output::connected(&out, args.api.vocabulary(), ctx.json);
    Ok(Outcome::Done)
}

/// The API key from the environment variable `env` or stdin, trimmed. Refused (and never
/// printed) when empty or holding a line break or another control character, which no API key
/// has and which would otherwise reach Autopilot as a request that cannot be sent.
fn read_key(env: &str, stdin: bool) -> Result<SecretString, BoxError> {
    let key = if stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::env::var(env).map_err(|_| {
            InvalidInput(format!("no API key: set the environment variable {env} to your API key (Autopilot: Settings → Autopilot API; Ortto: a Custom API data source), or pass --api-key-stdin"))
        })?
    };
    let key = key.trim().to_string();
    if key.is_empty() {
        return Err(InvalidInput("the API key is empty".into()).into());
    }
    if key.chars().any(char::is_control) {
        return Err(InvalidInput(connect::KEY_WITH_CONTROL_CHARACTERS.into()).into());
    }
    Ok(SecretString::from(key))
}
