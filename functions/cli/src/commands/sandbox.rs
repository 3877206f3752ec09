//! `autopilot-export sandbox`: serves the Autopilot-compatible sandbox until Ctrl-C.

use crate::args::SandboxArgs;
use crate::failure::{BoxError, Outcome};

pub async fn run(args: SandboxArgs) -> Result<Outcome, BoxError> {
    let server = sandbox::Sandbox::start(config(&args), args.port)
        .await
        .map_err(|e| format!("the sandbox cannot listen on 127.0.0.1:{}: {e}", args.port))?;
    eprintln!(
        "Autopilot sandbox at {} (rate {}). Admin: http://{}/admin/state, /admin/counters. Ctrl-C stops it.",
        server.base_url(),
        if args.rate > 0.0 { format!("{}/s", args.rate) } else { "unlimited".into() },
        server.addr()
    );
    tokio::signal::ctrl_c().await?;
    server.stop().await;
    Ok(Outcome::Done)
}

fn config(args: &SandboxArgs) -> sandbox::SandboxConfig {
    sandbox::SandboxConfig {
        api_keys: vec![args.api_key.clone()],
        rate: (args.rate > 0.0).then_some(args.rate),
        burst: args.burst,
        retry_after_header: !args.no_retry_after,
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
    }
}
