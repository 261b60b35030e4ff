//! `nas completions SHELL`: a completion script generated from the same
//! command definitions that parse the arguments, so it cannot drift.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

pub fn run(args: CompletionsArgs) -> anyhow::Result<()> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "nas", &mut std::io::stdout());
    Ok(())
}
