//! The text after each command's options in `--help`: one example per command (the docs tests
//! check that every flag an example uses exists), and the exit statuses of the commands that use
//! more than 0 and 1. Also the version line, with the commit the build came from.

/// `--version`: the package's version and the commit of the build (`build.rs`).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("AUTOPILOT_EXPORT_COMMIT"),
    ")"
);

pub const ROOT: &str = "Example:
  autopilot-export demo --profiles 10000            # the whole product against a local sandbox

Guides: README.md and docs/ (cli.md, console.md, deploy.md, troubleshooting.md).";

pub const DEMO: &str = "Example:
  autopilot-export demo --profiles 10000 --console";

pub const SANDBOX: &str = "Example:
  autopilot-export sandbox --port 8080 --rate 10 --api-key sandbox-key";

pub const CONNECT: &str = "Example:
  export AUTOPILOT_API_KEY=...        # Autopilot: Settings → Autopilot API
  autopilot-export connect --name Marketing --agree --export-user ana@acme.example";

pub const CONFIGURE: &str = "Example:
  autopilot-export configure marketing --email-field email --first-name-field first_name \\
    --custom 'string--Loyalty--Tier=tier' --segment 'VIP Customers=exports/vip.csv.gz'";

pub const EXPORT: &str = "Example:
  autopilot-export export marketing --dry-run

Exit status:
  0  succeeded: every valid profile is in its list
  1  failed, or refused before sending (the reason is printed; with --json as {\"error\": {\"type\", \"message\"}})
  2  the command line is wrong (an unknown flag, a value out of range)
  3  partially succeeded: some contacts were refused by the API (Autopilot, Ortto) or not sent; one line on stderr says which and what to run";

pub const STATUS: &str = "Example:
  autopilot-export --json status marketing";

pub const DESTINATIONS: &str = "Example:
  autopilot-export --json destinations";

pub const REMOVE: &str = "Example:
  autopilot-export remove marketing";

pub const VERIFY: &str = "Example:
  autopilot-export verify marketing --repair

Exit status:
  0  every list holds every member the last export put there (after --repair, once put back);
     unsubscribed and foreign members are reported but change nothing
  1  the verification failed (no export yet, the API unreachable or refusing the key, a repair while an export runs)
  2  the command line is wrong
  3  members are missing from a list (or could not be put back), or a list is gone; one line on stderr says what to run";

pub const HISTORY: &str = "Example:
  autopilot-export history marketing --limit 10";

pub const COMPLETIONS: &str = "Example:
  autopilot-export completions bash > ~/.local/share/bash-completion/completions/autopilot-export";

pub const MAN: &str = "Example:
  autopilot-export man --out-dir ~/.local/share/man/man1 && man autopilot-export-export";
