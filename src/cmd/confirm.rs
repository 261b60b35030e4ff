//! Asking before a command destroys something.

use std::io::{BufRead, IsTerminal, Write};

use super::UsageError;

/// Whether to `action` ("delete study `x` with 5 trials"): `true` with
/// `yes`; otherwise the user's answer on the terminal (`y` or `yes`;
/// anything else, an empty line or end of input is no). Without a terminal
/// on stdin nobody can answer, and a script that forgot `--yes` must not
/// destroy anything by accident: that is a [`UsageError`] naming the flag.
pub fn confirm(action: &str, yes: bool) -> Result<bool, UsageError> {
    if yes {
        return Ok(true);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(UsageError(format!(
            "not going to {action} without asking, and stdin is not a terminal to ask on: \
             pass --yes to go ahead"
        )));
    }
    eprint!("{action}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if stdin.lock().read_line(&mut answer).is_err() {
        return Ok(false);
    }
    Ok(matches!(
        answer.trim().to_ascii_lowercase().as_str(),
        "y" | "yes"
    ))
}
