//! `autopilot-export sandbox`: serves the sandbox until Ctrl-C — Autopilot-compatible, or
//! Ortto-compatible (`--api ortto [--region global|au|eu]`). Its first line on stderr says where it
//! listens, the second how to reach `/admin`: with the admin token, printed when the sandbox made
//! it, or named by its variable when given with `--admin-token-env` (never echoed then).

use crate::args::{SandboxApi, SandboxArgs};
use crate::failure::{BoxError, InvalidInput, Outcome};

pub async fn run(args: SandboxArgs) -> Result<Outcome, BoxError> {
    let config = config(&args).map_err(InvalidInput)?;
    let server = sandbox::Sandbox::start(config, args.port)
        .await
        .map_err(|e| format!("the sandbox cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    let rate = if args.rate > 0.0 {
        format!("{}/s", args.rate)
    } else {
        "unlimited".into()
    };
    match server.api() {
        sandbox::Api::Autopilot => eprintln!(
            "Autopilot sandbox at {} (rate {rate}). Ctrl-C stops it.",
            server.base_url()
        ),
        sandbox::Api::Ortto(region) => eprintln!(
            "Ortto sandbox ({} region) at {}: calls under /v1/… (rate {rate}; other regions under \
             /global/v1, /au/v1, /eu/v1). Ctrl-C stops it.",
            region.as_str(),
            server.base_url()
        ),
    }
    let token = match &args.admin_token_env {
        Some(var) => format!("${var}"),
        None => server.admin_token().to_string(),
    };
    eprintln!(
        "Admin: http://{}/admin/state, /admin/counters, /admin/settings, with the header \
         \"Authorization: Bearer {token}\" (it answers programs on this machine, never a web page).",
        server.addr()
    );
    tokio::signal::ctrl_c().await?;
    server.stop().await;
    Ok(Outcome::Done)
}

fn config(args: &SandboxArgs) -> Result<sandbox::SandboxConfig, String> {
    let base = match (args.api, args.region) {
        (SandboxApi::Autopilot, Some(_)) => {
            return Err("--region is for an Ortto sandbox: add --api ortto".into())
        }
        (SandboxApi::Autopilot, None) if args.retry_after => {
            return Err("--retry-after is for an Ortto sandbox (Autopilot's 429s have the header unless --no-retry-after)".into())
        }
        (SandboxApi::Autopilot, None) => sandbox::SandboxConfig {
            retry_after_header: !args.no_retry_after,
            ..sandbox::SandboxConfig::with_key(&args.api_key)
        },
        (SandboxApi::Ortto, region) => sandbox::SandboxConfig {
            retry_after_header: args.retry_after,
            ..sandbox::SandboxConfig::ortto(&args.api_key).region(region.unwrap_or_default())
        },
    };
    Ok(sandbox::SandboxConfig {
        rate: (args.rate > 0.0).then_some(args.rate),
        burst: args.burst,
        faults: sandbox::Faults {
            error_rate: args.error_rate,
            drop_rate: args.drop_rate,
            slow_rate: args.slow_rate,
            slow_ms: args.slow_ms,
            throttle_burst_rate: args.throttle_burst_rate,
            throttle_burst_ms: args.throttle_burst_ms,
            outage_after_ms: args.outage_after_ms,
            outage_ms: args.outage_ms,
            seed: args.seed,
        },
        admin_token: admin_token(args)?,
        ..base
    })
}

/// The admin token in the variable `--admin-token-env` names; `None` for a random one.
fn admin_token(args: &SandboxArgs) -> Result<Option<sandbox::AdminToken>, String> {
    let Some(var) = &args.admin_token_env else {
        return Ok(None);
    };
    let text = std::env::var(var).map_err(|_| {
        format!(
            "the environment variable {var} (named by --admin-token-env) is not set: put the \
             admin token in it, or leave the flag out for a random one"
        )
    })?;
    sandbox::AdminToken::given(text.trim())
        .map(Some)
        .map_err(|e| format!("{e}, in {var} (named by --admin-token-env)"))
}
