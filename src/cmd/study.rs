//! `nas study delete` and `nas study rename`: changing what a store holds
//! about one study. The store must exist already; neither creates one.

use std::path::{Path, PathBuf};

use hybrid_nas::store::{AnyStore, Store, TrialRecord, TrialState};
use hybrid_nas::study::{self, manage};
use hybrid_nas::terminal::{escape, quote};

use super::confirm::confirm;
use crate::cli::{StudyAction, StudyArgs, StudyDeleteArgs, StudyRenameArgs};

/// Where commands write files named after a study (`--plot` defaults).
const RUNS: &str = "runs";

pub fn run(args: StudyArgs) -> anyhow::Result<i32> {
    match args.action {
        StudyAction::Delete(a) => delete(a),
        StudyAction::Rename(a) => rename(a).map(|()| 0),
    }
}

fn delete(args: StudyDeleteArgs) -> anyhow::Result<i32> {
    // Read first, write only once confirmed: a refused or declined delete
    // leaves the file as it was.
    let found = {
        let store = AnyStore::open_existing(&args.store.storage)?;
        let found = study::find(&store, &args.name)?;
        let trials = store.trials(found.id)?;
        let action = delete_action(&found.name, &trials, &store.describe());
        if !confirm(&action, args.yes)? {
            eprintln!("nothing deleted");
            return Ok(1);
        }
        found
    };
    let store = AnyStore::open_existing_writable(&args.store.storage)?;
    // The name must still be that study: another process may have deleted
    // or renamed it while the question waited.
    let current = study::find(&store, &args.name)?;
    if current.id != found.id {
        anyhow::bail!(
            "study `{}` changed while asking (another process replaced it); nothing deleted",
            quote(&args.name, 60)
        );
    }
    let deleted = manage::delete(&store, &current)?;
    println!(
        "deleted study `{}` and its {deleted} trials (values, curves and supernet \
         checkpoints with them)",
        quote(&current.name, 60)
    );
    left_on_disk(
        &current.name,
        "remove them yourself if they are no longer needed",
    );
    Ok(0)
}

/// What the question names: the study, its trials, whether some run, and
/// the file.
fn delete_action(name: &str, trials: &[TrialRecord], store: &str) -> String {
    let running = trials
        .iter()
        .filter(|t| t.state == TrialState::Running)
        .count();
    // A running trial may be a live worker's, whose result would then be
    // refused: the question says so.
    let live = if running > 0 {
        format!(" ({running} running: a `nas run` may still be using it)")
    } else {
        String::new()
    };
    format!(
        "delete study `{}` with {} trials{live} from {}",
        quote(name, 60),
        trials.len(),
        escape(store)
    )
}

fn rename(args: StudyRenameArgs) -> anyhow::Result<()> {
    let store = AnyStore::open_existing_writable(&args.store.storage)?;
    let renamed = manage::rename(&store, &args.old, &args.new)?;
    println!(
        "renamed study `{}` to `{}`",
        quote(&args.old, 60),
        quote(&renamed.name, 60)
    );
    left_on_disk(
        &args.old,
        &format!(
            "they keep the old name; new plots go to {}",
            escape(&display_dir(&study::name::output_dir(
                Path::new(RUNS),
                &[renamed.name.as_str()]
            )))
        ),
    );
    Ok(())
}

/// Says which folders named after the study stay on disk: files are not the
/// store's, and nothing deletes them silently.
fn left_on_disk(name: &str, advice: &str) {
    let folders: Vec<PathBuf> = manage::folders(Path::new(RUNS), name);
    if folders.is_empty() {
        return;
    }
    let listed: Vec<String> = folders
        .iter()
        .map(|f| escape(&display_dir(f)).into_owned())
        .collect();
    println!(
        "left on disk: {} (plots of this study); {advice}",
        listed.join(", ")
    );
}

fn display_dir(dir: &Path) -> String {
    format!("{}/", dir.display())
}
