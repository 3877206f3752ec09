//! `autopilot-export completions SHELL` and `autopilot-export man`: the shell completion script
//! and the manual pages, generated from the command-line definition in [`crate::args`], so they
//! list exactly the commands and flags this build has.

use crate::args::{Cli, CompletionsArgs, ManArgs};
use crate::failure::{BoxError, Outcome};
use clap::CommandFactory;

/// Prints the completion script of `args.shell` on standard output.
pub fn completions(args: CompletionsArgs) -> Result<Outcome, BoxError> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
    Ok(Outcome::Done)
}

/// Prints the main manual page, or writes every command's page into `args.out_dir`.
pub fn man(args: ManArgs) -> Result<Outcome, BoxError> {
    let command = Cli::command();
    match args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| format!("cannot create the folder {}: {e}", dir.display()))?;
            clap_mangen::generate_to(command, &dir).map_err(|e| {
                format!("cannot write the manual pages into {}: {e}", dir.display())
            })?;
            println!("Manual pages written to {}", dir.display());
        }
        None => clap_mangen::Man::new(command).render(&mut std::io::stdout())?,
    }
    Ok(Outcome::Done)
}
