//! `nas`: parse the command line, dispatch, map errors to exit codes.

mod cli;
mod cmd;

use clap::Parser;

fn main() {
    // Die quietly on a closed pipe (`nas trials | head`), like other Unix tools,
    // instead of panicking in println!.
    // SAFETY: restoring a default signal disposition before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NAS_LOG")
                // sqlx warns of statements over a second, which checkpoints
                // of a large supernet are by design: not the user's concern.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx::query=error")),
        )
        .init();
    match cmd::run(args) {
        Ok(0) => {}
        Ok(code) => std::process::exit(code),
        Err(err) => {
            // Messages quote names and texts from files and stores: no
            // control character of theirs reaches the terminal raw.
            let message = format!("{err:#}");
            eprintln!("error: {}", hybrid_nas::terminal::escape(&message));
            std::process::exit(cmd::exit_code(&err));
        }
    }
}
