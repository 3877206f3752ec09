//! The cost estimate's figures of the deployment agree with `infra/template.yaml`: each function's
//! memory and the upload concurrency, so that a change of the template cannot leave the estimate
//! pricing a deployment that no longer exists.

use shared::cost;
use std::path::Path;

fn template() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/template.yaml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The number after the first `field:` line that follows the `resource:` line.
fn number_after(text: &str, resource: &str, field: &str) -> f64 {
    let start = text
        .find(&format!("\n  {resource}:"))
        .unwrap_or_else(|| panic!("{resource} is not in the template"));
    let line = text[start..]
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{resource} has no {field}"));
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("{resource}'s {field} is not a number: {line}"))
}

#[test]
fn the_estimate_prices_the_functions_the_template_deploys() {
    let text = template();
    let memory = |function| number_after(&text, function, "MemorySize");
    assert_eq!(memory("ExportFunction"), cost::EXPORT_MEMORY_MB);
    assert_eq!(memory("UploadChunkFunction"), cost::UPLOAD_CHUNK_MEMORY_MB);
    assert_eq!(memory("FinalizeFunction"), cost::FINALIZE_MEMORY_MB);
    assert_eq!(
        number_after(&text, "MaxConcurrency", "Default"),
        cost::MAX_CONCURRENCY
    );
}
