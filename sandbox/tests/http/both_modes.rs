//! What the gate both modes share does the same in each: a slow answer to a write is counted as a
//! slow bulk write (the only answer whose repeat writes contacts twice), a slow read is not.

use reqwest::Method;
use sandbox::{Faults, Sandbox, SandboxConfig};
use serde_json::json;

const KEY: &str = "both-modes-key";

#[tokio::test]
async fn a_slow_answer_to_a_write_is_counted_as_a_slow_bulk_write_in_either_mode() {
    let autopilot = (
        SandboxConfig::with_key(KEY),
        "autopilotapikey",
        "/contacts",
        json!({"contacts": [{"Email": "a@x.io"}]}),
        (Method::GET, "/lists"),
    );
    let ortto = (
        SandboxConfig::ortto(KEY),
        "x-api-key",
        "/v1/person/merge",
        json!({"people": [{"fields": {"str::email": "a@x.io"}}]}),
        (Method::POST, "/v1/tags/get"),
    );
    for (config, header, write, body, (read_method, read)) in [autopilot, ortto] {
        let sandbox = Sandbox::start(config, 0).await.unwrap();
        sandbox.set_faults(Faults {
            slow_rate: 1.0,
            slow_ms: 50,
            ..Faults::default()
        });
        let client = reqwest::Client::new();
        let base = sandbox.base_url();
        let wrote = client
            .post(format!("{base}{write}"))
            .header(header, KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(wrote.status().is_success(), "{write}: {}", wrote.status());
        let answer = client
            .request(read_method, format!("{base}{read}"))
            .header(header, KEY)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert!(answer.status().is_success(), "{read}: {}", answer.status());
        let counters = sandbox.counters();
        assert_eq!(
            (
                counters.slow,
                counters.slow_bulk_writes,
                counters.bulk_requests
            ),
            (2, 1, 1),
            "{:?}",
            sandbox.api()
        );
    }
}
