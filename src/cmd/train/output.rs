//! Where `nas train` writes its checkpoint: a fresh folder per run by
//! default, so that a second run of the same design and seed never replaces
//! the first one's checkpoint.

use std::io;
use std::path::{Path, PathBuf};

/// The folder a run writes to, and the folders claiming it created (the
/// innermost first), so that a run that fails leaves nothing behind.
pub struct Claimed {
    pub dir: PathBuf,
    created: Vec<PathBuf>,
}

/// Claims the folder a run writes to, before it trains, so that the path
/// can be shown at the start and two runs at once never share one.
///
/// - `out` given: that folder (created if needed; files in it are replaced).
/// - `overwrite`: the default folder itself, replacing an earlier run's files.
/// - otherwise the default folder if it does not exist yet, else the first
///   free `DEFAULT-2`, `DEFAULT-3`, ... Each candidate is taken with one
///   `create_dir`, which fails when another process took it first.
pub fn claim(out: Option<&Path>, overwrite: bool, default: &Path) -> io::Result<Claimed> {
    let mut created = Vec::new();
    if let Some(out) = out {
        create_parents(out, &mut created)?;
        if !out.is_dir() {
            std::fs::create_dir(out)?;
            created.insert(0, out.to_path_buf());
        }
        return Ok(Claimed {
            dir: out.to_path_buf(),
            created,
        });
    }
    create_parents(default, &mut created)?;
    if overwrite && default.is_dir() {
        return Ok(Claimed {
            dir: default.to_path_buf(),
            created,
        });
    }
    let mut n = 1;
    loop {
        let candidate = if n == 1 {
            default.to_path_buf()
        } else {
            suffixed(default, n)
        };
        match std::fs::create_dir(&candidate) {
            Ok(()) => {
                created.insert(0, candidate.clone());
                return Ok(Claimed {
                    dir: candidate,
                    created,
                });
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => n += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Creates the missing folders above `path`, recording each (innermost first).
fn create_parents(path: &Path, created: &mut Vec<PathBuf>) -> io::Result<()> {
    let missing: Vec<&Path> = path
        .ancestors()
        .skip(1)
        .filter(|a| !a.as_os_str().is_empty())
        .take_while(|a| !a.exists())
        .collect();
    for dir in missing.iter().rev() {
        match std::fs::create_dir(dir) {
            Ok(()) => created.insert(0, dir.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Gives back what a run that wrote nothing claimed: the folders it created,
/// when still empty. A folder with files (an `--out` given) is left alone.
pub fn release_unused(claimed: &Claimed) {
    for dir in &claimed.created {
        let _ = std::fs::remove_dir(dir);
    }
}

fn suffixed(path: &Path, n: usize) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!("-{n}"));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_run_gets_a_fresh_folder() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("train").join("abc-s0");
        let first = claim(None, false, &default).unwrap();
        assert_eq!(first.dir, default);
        assert_eq!(first.created, [default.clone(), dir.path().join("train")]);
        let second = claim(None, false, &default).unwrap();
        assert_eq!(second.dir, dir.path().join("train").join("abc-s0-2"));
        assert_eq!(
            claim(None, false, &default).unwrap().dir,
            dir.path().join("train").join("abc-s0-3")
        );
        // --overwrite takes the default folder again; --out is used as given.
        assert_eq!(claim(None, true, &default).unwrap().dir, default);
        let out = dir.path().join("mine");
        assert_eq!(claim(Some(&out), false, &default).unwrap().dir, out);
        assert!(out.is_dir());
    }

    #[test]
    fn an_unused_claim_is_given_back_but_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let default = dir.path().join("runs").join("train").join("abc-s0");
        let claimed = claim(None, false, &default).unwrap();
        release_unused(&claimed);
        assert!(
            !dir.path().join("runs").exists(),
            "every folder it made is gone"
        );
        let full = dir.path().join("full");
        std::fs::create_dir(&full).unwrap();
        std::fs::write(full.join("model.safetensors"), b"x").unwrap();
        release_unused(&claim(Some(&full), false, &default).unwrap());
        assert!(full.join("model.safetensors").exists());
    }
}
