//! One function per subcommand; errors become exit codes here.

mod bench;
mod train;

use hybrid_nas::arch::ArchError;
use hybrid_nas::data::DataError;
use hybrid_nas::train::TrainError;

use crate::cli::{Cli, Command};

/// Exit code for bad input (a file, an argument): nothing was done.
pub const EXIT_USAGE: i32 = 2;

pub fn run(cli: Cli) -> anyhow::Result<()> {
    let threads = cli
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    tch::set_num_threads(threads as i32);
    match cli.command {
        Command::Train(args) => train::run(args),
        Command::Bench(args) => bench::run(args),
    }
}

/// 2 for bad input the user can fix, 1 for everything else.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if cause.is::<ArchError>() || cause.is::<DataError>() {
            return EXIT_USAGE;
        }
        if let Some(TrainError::Config(_) | TrainError::Data(_)) = cause.downcast_ref() {
            return EXIT_USAGE;
        }
    }
    1
}
