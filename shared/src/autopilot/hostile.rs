//! The Autopilot client against tiny local servers that answer as no Autopilot would: answers
//! without an account.

use super::*;
use crate::http_api::hostile::{config, http, server};
use secrecy::SecretString;

fn client(port: u16) -> AutopilotClient {
    AutopilotClient::new(config(port), SecretString::from("k".to_string())).unwrap()
}

#[tokio::test]
async fn an_account_answer_without_an_account_is_refused() {
    for body in [
        "{}",
        r#"{"instance_id": null}"#,
        r#"{"instance_id": ""}"#,
        r#"{"organization_name": "  "}"#,
        r#"{"status": "ok", "data": {"organization_name": "Nested"}}"#,
    ] {
        let (port, _, _) = server(move || http("200 OK", "", body)).await;
        let err = client(port).account().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "the answer to GET /account has no account in it: the URL is probably not Autopilot's API",
            "{body}"
        );
        assert_eq!(err.type_name(), "InvalidResponse", "{body}");
    }
    for (body, name) in [
        (r#"{"instance_id": 12345}"#, None),
        (r#"{"instance_id": "abc"}"#, None),
        (r#"{"organization_name": "Acme"}"#, Some("Acme")),
        (
            r#"{"instance_id": 7, "organization_name": "Acme\u001b[31m Ltd"}"#,
            Some("Acme [31m Ltd"),
        ),
    ] {
        let (port, _, _) = server(move || http("200 OK", "", body)).await;
        let account = client(port).account().await.unwrap();
        assert_eq!(account.organization_name.as_deref(), name, "{body}");
    }
}
