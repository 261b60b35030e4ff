//! `nas`: parse the command line, dispatch, map errors to exit codes.

mod cli;
mod cmd;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NAS_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    if let Err(err) = cmd::run(args) {
        eprintln!("error: {err:#}");
        std::process::exit(cmd::exit_code(&err));
    }
}
