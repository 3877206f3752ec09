//! Whole exports through the jobs against a real sandbox of each API, by what goes in: awkward
//! snapshots end in exactly the right lists (Ortto: tags) with every row accounted for; unusable
//! input and bad setup are refused with clear messages before the first request.

use integration_tests::apis::{destination, field, refused_reason, sandbox_of, ApiKind};
use integration_tests::for_each_api;
use integration_tests::jobs::{account, export, export_deps, members};
use shared::jobs::finalize::Status;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;

for_each_api!(
    awkward_snapshots_end_in_exactly_the_right_lists
    unusable_input_fails_before_the_first_request
    bad_setup_is_refused_with_clear_messages
);

async fn awkward_snapshots_end_in_exactly_the_right_lists(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    // BOM, CRLF, a quoted comma, a quoted newline, a duplicate in other case, a wrong column
    // count, an invalid email, an empty email, a bad integer, an address the API refuses (the
    // sandbox refuses the reserved `.invalid` domain in either mode).
    let a = dir.path().join("a.csv");
    std::fs::write(
        &a,
        "\u{feff}Email,First Name,age\r\n\
         ann@example.com,\"Lee, Ann\",41\r\n\
         bob@example.com,\"Bob\nBobson\",\r\n\
         ANN@EXAMPLE.COM,Ann again,41\r\n\
         cat@example.com,Cat\r\n\
         not-an-email,Dan,30\r\n\
         ,Nobody,30\r\n\
         eve@example.com,Eve,forty\r\n\
         fay@host.invalid,Fay,22\r\n\
         \u{20}gus@example.com ,Gus,50\r\n",
    )
    .unwrap();
    // Gzip without a .gz name, LF line ends, overlapping with segment A.
    let b = dir.path().join("b.csv");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"age,Email,First Name\n7,bob@example.com,Bob\n8,hal@example.com,Hal\n")
        .unwrap();
    std::fs::write(&b, gz.finish().unwrap()).unwrap();
    // Semicolons and Windows-1252 text, as an older spreadsheet export writes them.
    let c = dir.path().join("c.csv");
    std::fs::write(&c, b"Email;First Name;age\r\nzoe@example.com;Zo\xeb;33\r\n").unwrap();
    // A spreadsheet's "Unicode text": UTF-16 with a BOM, tabs, an email wrapped in invisible spaces.
    let d = dir.path().join("d.txt");
    let text = "\u{feff}Email\tFirst Name\tage\r\n\u{a0}ivy@example.com\u{200b}\tIvy\t29\r\n";
    let utf16: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
    std::fs::write(&d, utf16).unwrap();

    let sandbox = sandbox_of(api, |c| c.rate(200.0)).await;
    let deps = export_deps(dir.path());
    let dest = account(&sandbox, 200.0)
        .segment("Segment A", &a)
        .segment("Segment B", &b)
        .segment("Segment C", &c)
        .segment("Segment D", &d)
        .create(&deps)
        .await
        .unwrap();
    let report = export(&deps, &dest, 2).await.unwrap();

    assert_eq!(
        members(&sandbox, "Segment A"),
        HashSet::from(["ann@example.com", "bob@example.com", "gus@example.com"].map(String::from))
    );
    assert_eq!(
        members(&sandbox, "Segment B"),
        HashSet::from(["bob@example.com", "hal@example.com"].map(String::from))
    );
    assert_eq!(report.status, Status::PartiallySucceeded);
    let seg_a = &report.segments[0].counts;
    assert_eq!(
        (
            seg_a.rows_read,
            seg_a.sent,
            seg_a.invalid,
            seg_a.duplicates,
            seg_a.rejected,
            seg_a.unsent
        ),
        (9, 3, 4, 1, 1, 0)
    );
    assert_eq!(
        seg_a.invalid_by_reason,
        BTreeMap::from([
            ("invalid_email".to_string(), 1),
            ("invalid_value".to_string(), 1),
            ("missing_email".to_string(), 1),
            ("wrong_column_count".to_string(), 1)
        ])
    );
    for s in &report.segments {
        assert!(s.counts.adds_up(), "{s:?}");
        assert!(s.list_created);
    }
    assert_eq!(report.distinct_profiles, 7);
    assert_eq!(
        members(&sandbox, "Segment C"),
        HashSet::from(["zoe@example.com".to_string()])
    );
    assert_eq!(
        members(&sandbox, "Segment D"),
        HashSet::from(["ivy@example.com".to_string()])
    );
    // Nothing sent twice: every contact write in the sandbox is one sent contact.
    assert_eq!(sandbox.counters().contacts_written, report.totals.sent);
    assert_eq!(sandbox.counters().consent_fields_received, 0);
    // Custom fields arrive typed; empty values are not sent.
    assert_eq!(field(&sandbox, "ann@example.com", "integer--Age"), 41);
    assert_eq!(field(&sandbox, "zoe@example.com", "FirstName"), "Zoë");
    assert_eq!(field(&sandbox, "ann@example.com", "FirstName"), "Lee, Ann");
    assert_eq!(field(&sandbox, "bob@example.com", "integer--Age"), 7);

    let rejected =
        std::fs::read_to_string(dir.path().join("data").join(report.rejected_file.unwrap()))
            .unwrap();
    let lines: Vec<&str> = rejected.lines().collect();
    assert_eq!(lines[0], "segment,file,row,email,reason");
    assert_eq!(lines.len(), 6, "{rejected}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Segment A,a.csv,5,cat@example.com,\"wrong_column_count")),
        "{rejected}"
    );
    let refused = format!(
        "Segment A,a.csv,9,fay@host.invalid,{}: ",
        refused_reason(api)
    );
    assert!(lines.iter().any(|l| l.starts_with(&refused)), "{rejected}");
    // Chunks are gone, the report stays.
    let keys = deps.store.list(&format!("exports/{dest}/")).await.unwrap();
    assert!(!keys.iter().any(|k| k.contains("/chunks/")), "{keys:?}");
    assert!(keys.iter().any(|k| k.ends_with("report.json")));
}

async fn refused_before_sending(
    api: ApiKind,
    dir: &Path,
    snapshot: &[u8],
    limit: Option<u64>,
    expect: &str,
) {
    let path = dir.join(format!("s{}.csv", fastrand::u32(..)));
    std::fs::write(&path, snapshot).unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir);
    let dest = account(&sandbox, 100.0)
        .segment("S", &path)
        .profile_limit(limit)
        .create(&deps)
        .await
        .unwrap();
    let before = sandbox.counters().requests;
    let err = export(&deps, &dest, 10).await.unwrap_err();
    assert!(err.to_string().contains(expect), "{err}");
    assert_eq!(
        sandbox.counters().requests,
        before,
        "no request reached the API"
    );
    assert!(sandbox.state().lists.is_empty());
    shared::jobs::remove::run(
        shared::jobs::remove::Input {
            destination_id: dest,
        },
        &deps,
    )
    .await
    .unwrap();
}

async fn unusable_input_fails_before_the_first_request(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    refused_before_sending(api, dir.path(), b"", None, "is empty").await;
    refused_before_sending(
        api,
        dir.path(),
        b"mail,First Name,age\na@x.io,A,1\n",
        None,
        "no column 'Email'",
    )
    .await;
    let three = b"Email,First Name,age\na@x.io,A,1\nb@x.io,B,2\nc@x.io,C,3\nA@X.IO,A,1\n";
    let err_text = "3 distinct profiles, more than this destination's limit of 2";
    refused_before_sending(api, dir.path(), three, Some(2), err_text).await;
}

async fn bad_setup_is_refused_with_clear_messages(api: ApiKind) {
    let dir = tempfile::tempdir().unwrap();
    let sandbox = sandbox_of(api, |c| c).await;
    let deps = export_deps(dir.path());
    let acme = destination(&sandbox).named("Acme");
    let err = acme
        .clone()
        .without_consent()
        .connect(&deps)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("consent is required"), "{err}");
    let err = acme.key("wrong-key").connect(&deps).await.unwrap_err();
    assert_eq!(err.type_name(), "Unauthorized");
    assert!(
        err.to_string().contains("rejected the API key") && !err.to_string().contains("wrong-key"),
        "{err}"
    );
    assert!(
        deps.store.list("destinations/").await.unwrap().is_empty(),
        "nothing stored for a refused key"
    );

    let err = export(&deps, "nope", 10).await.unwrap_err();
    assert!(
        err.to_string().contains("there is no destination 'nope'"),
        "{err}"
    );

    let account = account(&sandbox, 100.0);
    let dest = account.connect(&deps).await.unwrap();
    let missing = account.clone().segment("S", dir.path().join("missing.csv"));
    missing.configure(&deps, &dest).await.unwrap();
    let err = export(&deps, &dest, 10).await.unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = missing
        .profile_limit(Some(0))
        .configure(&deps, &dest)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("at least 1"), "{err}");
    let err = account
        .custom("colour--Eyes", "eyes")
        .segment("S", "x.csv")
        .configure(&deps, &dest)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("unknown type 'colour'"), "{err}");

    // Removing deletes the key; later exports fail clearly.
    shared::jobs::remove::run(
        shared::jobs::remove::Input {
            destination_id: dest.clone(),
        },
        &deps,
    )
    .await
    .unwrap();
    assert!(!dir.path().join(format!("data/secrets/{dest}.key")).exists());
    let err = export(&deps, &dest, 10).await.unwrap_err();
    assert_eq!(err.type_name(), "NotFound");
}
