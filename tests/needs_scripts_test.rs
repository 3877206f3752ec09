//! Prints, in plain `cargo test`, which suites did not run because they need servers that
//! `scripts/test` installs and starts (moto, the state-machine engine, Chromium). With the
//! `moto-tests` feature (which scripts/test turns on) it prints one line saying they run. It has
//! no harness, so that cargo shows what it prints instead of capturing it; it always passes.

fn main() {
    if cfg!(feature = "moto-tests") {
        println!("moto-tests on: the suites on moto run in this `cargo test` (AWS_ENDPOINT_URL must point at moto)");
        return;
    }
    println!(
        "\nSKIPPED: suites that need servers, left out of a plain `cargo test`. `scripts/test` installs \
         and starts them and runs every one:\n\
         \x20 - on moto (S3, Secrets Manager, Step Functions), behind the cargo feature `moto-tests`:\n\
         \x20     -p integration-tests --test aws, and the S3 half of --test inputs; -p api --test api --test security --test accounts --test audit;\n\
         \x20     -p web-console --features aws (the console on a stack)\n\
         \x20 - the state machine on aws-local-stepfunctions with the real Lambda binaries (infra/tests, npm test)\n\
         \x20 - the web console in Chromium (scripts/test-console)\n\
         \x20 - the fuzz targets (cargo +nightly fuzz), the template checks and the deploy build\n\
         Run everything: scripts/test. One moto suite alone: start moto_server, set AWS_ENDPOINT_URL, then\n\
         \x20 cargo test -p integration-tests --features moto-tests --test aws\n"
    );
}
