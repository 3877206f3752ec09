//! The Autopilot client against tiny local servers that answer as no Autopilot would: answers
//! without an account, list pages that never end.

use super::*;
use crate::http_api::hostile::{config, http, server};
use secrecy::SecretString;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

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

/// A server whose list pages hold `per_page` members each and go on for `pages` pages (with a
/// bookmark on all but the last), or for ever.
async fn paging_server(
    per_page: usize,
    pages: Option<usize>,
) -> (AutopilotClient, Arc<AtomicUsize>) {
    let served = Arc::new(AtomicUsize::new(0));
    let (port, asked, _) = server(move || {
        let page = served.fetch_add(1, Ordering::SeqCst);
        let contacts: Vec<String> = (0..per_page)
            .map(|i| format!(r#"{{"Email":"p{page}-{i}@example.com","FirstName":"Ann","custom":{{"string--Note":"{}"}}}}"#, "x".repeat(200)))
            .collect();
        let bookmark = match pages {
            Some(last) if page + 1 >= last => String::new(),
            _ => format!(r#","bookmark":"b{page}""#),
        };
        let body = format!(r#"{{"contacts":[{}],"total_contacts":99{bookmark}}}"#, contacts.join(","));
        http("200 OK", "", &body)
    })
    .await;
    (client(port), asked)
}

#[tokio::test]
async fn list_members_are_read_as_emails_only() {
    let (client, asked) = paging_server(2, Some(3)).await;
    let emails = client.list_member_emails("l1").await.unwrap();
    assert_eq!(emails.len(), 6);
    assert_eq!(emails[0], "p0-0@example.com");
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    let (client, _) = paging_server(2, Some(3)).await;
    let members = client.list_members("l1").await.unwrap();
    assert_eq!(members[5], serde_json::json!({"Email": "p2-1@example.com"}));
}

#[tokio::test]
async fn a_list_that_never_ends_is_refused_at_the_limits() {
    let limits = |members, pages| ListLimits { members, pages };
    // Too many members: stopped at the limit, never more than one page past it.
    let (client, asked) = paging_server(10, None).await;
    let err = client
        .read_member_emails("l1", limits(25, 1000))
        .await
        .unwrap_err();
    assert_eq!(err.type_name(), "LimitExceeded", "{err}");
    assert_eq!(
        err.to_string(),
        "the Autopilot list l1 has more than 25 members, more than an export reads: stopped reading it"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 3);
    // Pages that never end: stopped at the page limit.
    let (client, asked) = paging_server(1, None).await;
    let err = client
        .read_member_emails("l1", limits(1000, 10))
        .await
        .unwrap_err();
    assert_eq!(err.type_name(), "InvalidResponse", "{err}");
    assert!(
        err.to_string().contains("went on for more than 10 pages"),
        "{err}"
    );
    assert_eq!(asked.load(Ordering::SeqCst), 10);
    // The defaults.
    let defaults = ListLimits::default();
    assert_eq!((defaults.members, defaults.pages), (5_000_000, 1_000_000));
}
