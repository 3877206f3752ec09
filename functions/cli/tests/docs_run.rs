//! Runs every code block the user documentation marks as runnable (```` ```sh runnable ````,
//! optionally `exit=N` when the block is meant to end with status N) against a real sandbox: the
//! blocks of each page in order, in one temporary folder per page (so a page's later blocks see
//! what its earlier ones made), with bash `-e -o pipefail`, this build's `autopilot-export` first
//! on PATH, AUTOPILOT_API_KEY holding the sandbox's key (the blocks take the key from the
//! environment, as the docs tell users to) and the docs' sandbox address,
//! `http://127.0.0.1:8080`, replaced by the test sandbox's. A block fails the test when it ends
//! with another status than the one it expects, or when its output holds the key.

mod doc_pages;

use std::process::Command;

/// The sandbox address the docs use (`autopilot-export sandbox --port 8080`).
const DOCS_SANDBOX: &str = "http://127.0.0.1:8080";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runnable_blocks_of_the_docs_run() {
    let key = format!("docs-key-{}", fastrand::u64(..));
    let server = sandbox::Sandbox::start(sandbox::SandboxConfig::with_key(&key).rate(0.0), 0)
        .await
        .unwrap();
    let sandbox_url = format!("http://{}", server.addr());
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_autopilot-export"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut ran = Vec::new();
    for (page, text) in doc_pages::pages() {
        let folder = tempfile::tempdir().unwrap();
        for block in doc_pages::blocks(&text)
            .into_iter()
            .filter(|b| b.runnable())
        {
            let script = block.text.replace(DOCS_SANDBOX, &sandbox_url);
            let started = std::time::Instant::now();
            let out = tokio::task::spawn_blocking({
                let (folder, path, key) = (folder.path().to_path_buf(), path.clone(), key.clone());
                move || {
                    Command::new("bash")
                        .args([
                            "--noprofile",
                            "--norc",
                            "-e",
                            "-o",
                            "pipefail",
                            "-c",
                            &script,
                        ])
                        .current_dir(folder)
                        .env("PATH", path)
                        .env("AUTOPILOT_API_KEY", key)
                        .env_remove("AUTOPILOT_EXPORT_DATA_DIR")
                        .env_remove("AUTOPILOT_EXPORT_LOG")
                        .output()
                        .unwrap()
                }
            })
            .await
            .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            let status = out.status.code().unwrap_or(-1);
            assert_eq!(
                status,
                block.expected_exit(),
                "{page}, the block at line {}, ended with {status}:\n{}\n--- its output:\n{all}",
                block.line,
                block.text
            );
            assert!(
                !all.contains(&key),
                "{page}:{}: the key was printed",
                block.line
            );
            assert!(!all.contains("panicked"), "{page}:{}: {all}", block.line);
            ran.push(format!(
                "{page}:{} ({:.1} s)",
                block.line,
                started.elapsed().as_secs_f64()
            ));
        }
    }
    println!("ran {} blocks: {}", ran.len(), ran.join(", "));
    // The tour and the command-line guide run from first step to last: far fewer blocks means
    // the markers went missing.
    assert!(
        ran.len() >= 8,
        "only {} runnable blocks: {ran:?}",
        ran.len()
    );
    server.stop().await;
}
