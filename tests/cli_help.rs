//! What `--help` and the README tell a new user agree, and every option is
//! described.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

fn nas(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nas"))
        .args(args)
        .output()
        .expect("the nas binary runs");
    assert!(out.status.success(), "nas {args:?}");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands `nas --help` lists, without clap's own `help`.
fn help_commands() -> BTreeSet<String> {
    let help = nas(&["--help"]);
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect()
}

#[test]
fn the_readme_command_list_matches_help() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let listed: BTreeSet<String> = readme
        .lines()
        .skip_while(|l| *l != "## Commands")
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("- `nas "))
        .filter_map(|rest| rest.split('`').next())
        .map(String::from)
        .collect();
    assert!(!listed.is_empty(), "the README has a \"## Commands\" list");
    assert_eq!(listed, help_commands());
}

#[test]
fn every_option_of_every_command_is_described() {
    for command in help_commands() {
        let help = nas(&[&command, "-h"]);
        let options = help
            .lines()
            .skip_while(|l| *l != "Options:")
            .take_while(|l| !l.trim().is_empty());
        for line in options.filter(|l| l.trim_start().starts_with('-')) {
            // "  -o, --output <OUTPUT>  Output file": the flag, two spaces, text.
            let described = line
                .trim_start()
                .split_once("  ")
                .is_some_and(|(_, text)| !text.trim().is_empty());
            assert!(
                described,
                "nas {command}: `{}` has no description",
                line.trim()
            );
        }
    }
}

#[test]
fn completions_name_every_command_in_each_shell() {
    let commands = help_commands();
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef nas"),
        ("fish", "complete -c nas"),
    ] {
        let script = nas(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {script}");
        for c in &commands {
            assert!(script.contains(c.as_str()), "{shell} lacks `{c}`");
        }
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nas.bash");
    std::fs::write(&file, nas(&["completions", "bash"])).unwrap();
    let check = Command::new("bash").arg("-n").arg(&file).output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}
