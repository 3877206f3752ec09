//! The Ortto client against tiny local servers that answer as Ortto would not: a page of people
//! longer than the 500 asked for (found by the `ortto-answers` fuzz target, whose input is kept in
//! `fuzz/regressions/ortto-answers`).

use super::OrttoClient;
use crate::audience_api::AudienceApi;
use crate::http_api::hostile::{config, http, server};
use secrecy::SecretString;

fn client(port: u16) -> OrttoClient {
    OrttoClient::build(config(port), SecretString::from("k".to_string()), None).unwrap()
}

#[tokio::test]
async fn a_page_longer_than_asked_for_is_read_whole() {
    let people: Vec<String> = (0..501)
        .map(|i| {
            format!(
                r#"{{"fields":{{"str::email":"p{i}@x.io","bol::p":{}}}}}"#,
                i % 2 == 0
            )
        })
        .collect();
    let body = format!(
        r#"{{"contacts":[{}],"cursor_id":"c2","has_more":true}}"#,
        people.join(",")
    );
    let (port, _, _) = server(move || http("200 OK", "", &body)).await;
    let page = client(port)
        .members_page("VIP", Some("17/c1"))
        .await
        .unwrap()
        .expect("the tag's page");
    assert_eq!(page.members.len(), 501);
    assert_eq!(page.members.iter().filter(|m| m.unsubscribed).count(), 250);
    assert_eq!(page.cursor.as_deref(), Some("17/c2"));
}
