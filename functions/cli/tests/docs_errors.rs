//! docs/troubleshooting.md has one section per error type of `shared::ErrorKind`, headed by its
//! stable name, and none for a type that does not exist: a new kind cannot go undocumented.

mod doc_pages;

use shared::ErrorKind;

#[test]
fn every_error_kind_has_its_section() {
    let page = std::fs::read_to_string(doc_pages::root().join("docs/troubleshooting.md")).unwrap();
    let headings: Vec<&str> = page
        .lines()
        .filter_map(|line| line.strip_prefix("## "))
        .map(str::trim)
        .collect();
    let kinds: Vec<&str> = ErrorKind::ALL.iter().map(|kind| kind.as_str()).collect();
    for error in ErrorKind::ALL {
        let kind = error.as_str();
        let section = page
            .split(&format!("\n## {kind}\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("docs/troubleshooting.md has no section `## {kind}`"));
        let text = section.split("\n## ").next().unwrap();
        assert!(
            text.split_whitespace().count() >= 20,
            "the section {kind} says what it means and the fix"
        );
        let status = error.http_status().to_string();
        assert!(
            text.contains(&status),
            "the section {kind} gives its HTTP status {status}"
        );
        let retried = !text.contains("not retried") && text.contains("retried");
        assert_eq!(
            retried,
            error.retryable(),
            "the section {kind} says whether it is retried"
        );
    }
    for heading in headings {
        assert!(kinds.contains(&heading), "`## {heading}` is no error type");
    }
}
