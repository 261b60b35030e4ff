//! Hostile input and hostile moments, through the CLI: study names that try
//! to leave `runs/` or drive the terminal, budgets a second process could
//! lower, databases of other programs, stores nobody may write, SIGTERM in
//! the middle of a trial.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{nas, stderr, stdout, tree, write_corpus};
use hybrid_nas::store::{FailKind, SqliteStore, Store, TrialState};

/// Runs raw SQL on a database file, outside the store.
fn raw(db: &Path, sql: &[&str], binds: &[&str]) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .create_if_missing(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        for statement in sql {
            let mut q = sqlx::query(statement);
            for b in binds.iter().filter(|_| statement.contains('?')) {
                q = q.bind(*b);
            }
            q.execute(&pool).await.unwrap();
        }
        pool.close().await;
    });
}

/// No ESC (nor any control character but the line ends and tabs of our own
/// tables) reaches the terminal; a name's newline is never printed raw.
fn assert_clean(out: &Output, name: &str, what: &str) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let bad = bytes
            .iter()
            .find(|&&b| (b < 0x20 && b != b'\n' && b != b'\t') || b == 0x7f);
        assert!(
            bad.is_none(),
            "{what}: raw control byte {bad:?} on {stream}"
        );
        let text = String::from_utf8_lossy(bytes);
        if name.contains('\n') {
            assert!(
                !text.contains(name),
                "{what}: a raw newline of the name on {stream}"
            );
        }
    }
}

/// The hostile names; `/abs` is an absolute path inside `outside`, so that
/// a file written there is seen.
fn hostile_names(outside: &Path) -> Vec<String> {
    vec![
        "../x".into(),
        format!("{}/abs", outside.display()),
        "..".into(),
        String::new(),
        "y".repeat(10_000),
        "line\nbreak".into(),
        "esc\u{1b}[2Jname".into(),
        ".hidden".into(),
    ]
}

/// A TOML basic string holding `s`.
fn toml_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The tiny space with its `[task]` reading `corpus`, and `extra` applied.
fn tiny_space(corpus: &Path, extra: impl Fn(String) -> String) -> String {
    let text = hybrid_nas::space::SearchSpace::bundled("tiny").unwrap();
    let text = text.replacen(
        "[task]",
        &format!(
            "[task]\ncorpus = {}",
            toml_string(&corpus.display().to_string())
        ),
        1,
    );
    extra(text)
}

/// A DARTS space that trains its one supernet in a few steps.
fn quick_darts(text: String) -> String {
    let (head, darts) = text.split_once("[darts]").unwrap();
    let darts = darts
        .replace("lambdas = [0.0, 0.005, 0.02]", "lambdas = [0.0]")
        .replace("depth = [2, 3]", "depth = [2]")
        .replace("d_model = [32, 64]", "d_model = [32]")
        .replace("warmup_steps = 50", "warmup_steps = 4")
        .replace("search_steps = 100", "search_steps = 6");
    format!("{head}[darts]{darts}")
}

#[test]
fn hostile_study_names_are_refused_and_never_lead_a_file_out_of_runs() {
    let outside = tempfile::tempdir().unwrap();
    let work = outside.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let corpus = write_corpus(&work, 30_000);
    let names = hostile_names(outside.path());

    // Creating a study under any of them is refused, from the command line
    // and from a space file's `name`, and stores no study.
    for name in names.iter().map(String::as_str) {
        let what = format!("run --study {name:?}");
        // `--study=NAME`: a name may start with `-`.
        let study = format!("--study={name}");
        let out = nas(
            &work,
            &["run", "--space", "tiny", "--evaluator", "analytic", &study],
        );
        assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("a study name is"),
            "{what}: {}",
            stderr(&out)
        );
        assert_clean(&out, name, &what);
        let space = tiny_space(&corpus, |t| {
            t.replacen(
                "name = \"tiny\"",
                &format!("name = {}", toml_string(name)),
                1,
            )
        });
        std::fs::write(work.join("named.toml"), space).unwrap();
        let out = nas(
            &work,
            &[
                "run",
                "--space",
                "named.toml",
                "--evaluator",
                "analytic",
                "--trials",
                "2",
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "space name {name:?}: {}",
            stderr(&out)
        );
        assert_clean(&out, name, "space name");
        let out = nas(
            &work,
            &[
                "eval",
                "--space",
                "tiny",
                "--arch",
                "d32 S8 A4",
                "--evaluator",
                "analytic",
                &study,
            ],
        );
        assert_eq!(
            out.status.code(),
            Some(2),
            "eval {name:?}: {}",
            stderr(&out)
        );
        assert_clean(&out, name, "eval");
    }
    let out = nas(&work, &["studies"]);
    assert!(stdout(&out).starts_with("no studies"), "{}", stdout(&out));

    // Studies an earlier release stored under such names still list, show,
    // plot and export; the default plot folder stays inside runs/.
    let out = nas(
        &work,
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--study",
            "seed",
            "--trials",
            "4",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(work.join("darts.toml"), tiny_space(&corpus, quick_darts)).unwrap();
    let out = nas(
        &work,
        &[
            "run",
            "--space",
            "darts.toml",
            "--strategy",
            "darts",
            "--evaluator",
            "analytic",
            "--study",
            "dd",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let db = work.join("runs/nas.db");
    let mut previous = ("seed".to_string(), "dd".to_string());
    for name in names.iter().map(String::as_str) {
        let darts_name = format!("{name}-darts");
        let darts_name = darts_name.as_str();
        let rename = ["UPDATE studies SET name = ?1 WHERE name = ?2"];
        raw(&db, &rename, &[name, previous.0.as_str()]);
        raw(&db, &rename, &[darts_name, previous.1.as_str()]);
        previous = (name.to_string(), darts_name.to_string());
        // `--study=NAME`: a name may start with `-` (`-darts`).
        let (study, darts) = (format!("--study={name}"), format!("--study={darts_name}"));
        let commands: Vec<Vec<&str>> = vec![
            vec!["studies"],
            vec!["trials", &study],
            vec!["pareto", &study, "--plot"],
            vec!["pareto", &study, &darts, "--plot"],
            vec!["export", &study, "--best", "-o", "best.toml"],
            vec!["darts", &darts, "--plot"],
        ];
        for args in commands {
            let what = format!("{args:?}");
            let out = nas(&work, &args);
            assert!(out.status.success(), "{what}: {}", stderr(&out));
            assert_clean(&out, name, &what);
            if args.contains(&"--plot") {
                assert!(
                    stderr(&out).contains("plot written to runs/"),
                    "{what}: {}",
                    stderr(&out)
                );
            }
        }
    }
    let outside_now = tree(outside.path());
    let escaped: Vec<_> = outside_now
        .iter()
        .filter(|p| !p.starts_with("work"))
        .collect();
    assert!(
        escaped.is_empty(),
        "written outside the work folder: {escaped:?}"
    );
    let plots = tree(&work.join("runs"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .count();
    assert!(plots >= names.len() * 2, "{plots} plots");
}

fn trials_of(db: &Path, study: &str) -> Vec<hybrid_nas::store::TrialRecord> {
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    let study = store.find_study(study).unwrap().expect("study exists");
    store.trials(study.id).unwrap()
}

fn budget_of(db: &Path, study: &str) -> usize {
    let store = SqliteStore::open(db.to_str().unwrap()).unwrap();
    store
        .find_study(study)
        .unwrap()
        .expect("study exists")
        .budget
}

#[test]
fn a_continued_run_keeps_the_budget_and_lowering_it_is_explicit_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runs/nas.db");
    let args = [
        "run",
        "--space",
        "hybrid",
        "--evaluator",
        "analytic",
        "--study",
        "b",
        "--json",
    ];
    let first = Command::new(env!("CARGO_BIN_EXE_nas"))
        .current_dir(dir.path())
        .args(["--threads", "1"])
        .args(args)
        .args(["--trials", "2000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first process has trials, a second one joins without --trials.
    let start = Instant::now();
    while !db.exists()
        || SqliteStore::open(db.to_str().unwrap())
            .ok()
            .and_then(|s| s.find_study("b").ok().flatten())
            .is_none()
    {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the study never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = nas(dir.path(), &args);
    assert!(second.status.success(), "{}", stderr(&second));
    assert!(!stderr(&second).contains("lowers"), "{}", stderr(&second));
    let first = first.wait_with_output().unwrap();
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let trials = trials_of(&db, "b");
    let complete = trials
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .count();
    assert_eq!(complete, 2000, "the second run lowered the budget");
    assert_eq!(budget_of(&db, "b"), 2000);

    // Lowering takes an explicit --trials, and is said.
    let out = nas(dir.path(), &[&args[..], &["--trials", "5"]].concat());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("--trials 5 lowers the study's budget from 2000 to 5"),
        "{}",
        stderr(&out)
    );
    assert_eq!(budget_of(&db, "b"), 5);
    let out = nas(dir.path(), &args);
    assert!(!stderr(&out).contains("lowers"), "{}", stderr(&out));
    assert_eq!(budget_of(&db, "b"), 5);
}

/// Files that are not nas stores: another program's database, one shaped
/// like Optuna's (its own `studies` and `trials`), and a text file.
fn foreign_files(dir: &Path) -> Vec<PathBuf> {
    let app = dir.join("app.db");
    raw(
        &app,
        &[
            "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)",
            "INSERT INTO notes (text) VALUES ('keep me')",
        ],
        &[],
    );
    let optuna = dir.join("optuna.db");
    raw(
        &optuna,
        &[
            "CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name TEXT)",
            "CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, study_id INTEGER, state TEXT)",
            "CREATE TABLE alembic_version (version_num TEXT)",
            "INSERT INTO studies (study_name) VALUES ('b')",
        ],
        &[],
    );
    let text = dir.join("notes.db");
    std::fs::write(&text, "not a database\n".repeat(20)).unwrap();
    vec![app, optuna, text]
}

#[test]
fn a_foreign_database_is_byte_identical_after_every_command() {
    let dir = tempfile::tempdir().unwrap();
    for db in foreign_files(dir.path()) {
        let before = std::fs::read(&db).unwrap();
        let storage = db.to_str().unwrap();
        let commands: Vec<Vec<&str>> = vec![
            vec!["studies"],
            vec!["trials", "--study", "b"],
            vec!["pareto", "--study", "b", "--plot"],
            vec!["export", "--study", "b", "--best", "-o", "x.toml"],
            vec!["darts", "--study", "b"],
            vec![
                "run",
                "--space",
                "tiny",
                "--evaluator",
                "analytic",
                "--study",
                "b",
            ],
            vec![
                "eval",
                "--space",
                "tiny",
                "--arch",
                "d32 S8 A4",
                "--evaluator",
                "analytic",
                "--study",
                "b",
            ],
        ];
        for args in commands {
            let what = format!("{args:?} on {}", db.display());
            let out = nas(dir.path(), &[&args[..], &["--storage", storage]].concat());
            assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(&out));
            let err = stderr(&out);
            let said = ["of another program", "is not a SQLite database"];
            assert!(said.iter().any(|s| err.contains(s)), "{what}: {err}");
            assert!(err.contains("untouched"), "{what}: {err}");
            assert_eq!(err.matches("untouched").count(), 1, "printed once: {err}");
            assert_eq!(
                std::fs::read(&db).unwrap(),
                before,
                "{what} changed the file"
            );
            for side in ["-wal", "-shm", "-journal"] {
                let mut p = db.as_os_str().to_owned();
                p.push(side);
                assert!(!Path::new(&p).exists(), "{what} left {side}");
            }
        }
    }
    assert!(!dir.path().join("x.toml").exists());

    // A zero-byte file may become a store.
    let zero = dir.path().join("zero.db");
    std::fs::write(&zero, b"").unwrap();
    let storage = zero.to_str().unwrap();
    let out = nas(dir.path(), &["studies", "--storage", storage]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "nothing to list yet: {}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::metadata(&zero).unwrap().len(),
        0,
        "a listing creates nothing"
    );
    let out = nas(
        dir.path(),
        &[
            "eval",
            "--space",
            "tiny",
            "--arch",
            "d32 S8 A4",
            "--evaluator",
            "analytic",
            "--study",
            "z",
            "--storage",
            storage,
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = nas(dir.path(), &["studies", "--storage", storage]);
    assert!(stdout(&out).contains("z "), "{}", stdout(&out));
}

/// `program` with `args`, unable to write what permissions forbid even when
/// the tests run as root (whose capabilities would override them).
fn restricted(program: &str, cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = if unsafe { libc::geteuid() } == 0 {
        let mut c = Command::new("setpriv");
        c.args([
            "--bounding-set",
            "-dac_override,-dac_read_search,-fowner",
            "--",
        ]);
        c.arg(program);
        c
    } else {
        Command::new(program)
    };
    cmd.current_dir(cwd).args(args).output().expect("it runs")
}

fn nas_restricted(cwd: &Path, args: &[&str]) -> Output {
    let nas = env!("CARGO_BIN_EXE_nas");
    restricted(nas, cwd, &[&["--threads", "2"][..], args].concat())
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn a_read_only_store_in_a_read_only_folder_still_lists() {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let out = nas(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--study",
            "r",
            "--trials",
            "4",
            "--storage",
            "ro/nas.db",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let old = ro.join("old.db");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/store-v0.1.0.db"),
        &old,
    )
    .unwrap();
    let before = std::fs::read(ro.join("nas.db")).unwrap();
    set_mode(&ro.join("nas.db"), 0o444);
    set_mode(&old, 0o444);
    set_mode(&ro, 0o555);
    // Restore the modes whatever happens, so that the folder can be removed.
    struct Restore(PathBuf);
    impl Drop for Restore {
        fn drop(&mut self) {
            set_mode(&self.0, 0o755);
        }
    }
    let _restore = Restore(ro.clone());
    // Where even the restricted process may write the folder, there is
    // nothing to check.
    let root = unsafe { libc::geteuid() } == 0;
    if root && Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: running as root without setpriv to drop the override");
        return;
    }
    let probe = restricted("touch", dir.path(), &["ro/probe"]);
    if probe.status.success() {
        eprintln!("skipped: this process may write a read-only folder");
        return;
    }

    for args in [
        vec!["studies"],
        vec!["trials", "--study", "r"],
        vec!["pareto", "--study", "r"],
        vec!["export", "--study", "r", "--best", "-o", "best.toml"],
    ] {
        let out = nas_restricted(
            dir.path(),
            &[&args[..], &["--storage", "ro/nas.db"]].concat(),
        );
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    assert!(dir.path().join("best.toml").exists());
    assert_eq!(
        std::fs::read(ro.join("nas.db")).unwrap(),
        before,
        "a read changed the store"
    );

    // Writing is refused, saying why, once.
    let out = nas_restricted(
        dir.path(),
        &[
            "run",
            "--space",
            "tiny",
            "--evaluator",
            "analytic",
            "--study",
            "r",
            "--storage",
            "ro/nas.db",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out).matches("read-only").count(),
        1,
        "{}",
        stderr(&out)
    );

    // A store of an earlier release is read from a migrated copy: it lists
    // where nothing may be written, and the file stays as it was.
    let old_before = std::fs::read(&old).unwrap();
    let out = nas_restricted(dir.path(), &["studies", "--storage", "ro/old.db"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("analytic40"), "{}", stdout(&out));
    assert!(stderr(&out).contains("earlier release"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&old).unwrap(), old_before);
}

#[test]
fn sigterm_during_a_trial_stops_like_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = write_corpus(dir.path(), 30_000);
    // Many steps, so that the first trial still trains when the signal comes.
    let space = tiny_space(&corpus, |t| t.replace("steps = 50", "steps = 5000"));
    std::fs::write(dir.path().join("tiny.toml"), space).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_nas"))
        .current_dir(dir.path())
        .args([
            "--threads",
            "1",
            "run",
            "--space",
            "tiny.toml",
            "--study",
            "t",
            "--trials",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let db = dir.path().join("runs/nas.db");
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(50));
        let claimed = db.exists()
            && SqliteStore::open_existing(db.to_str().unwrap())
                .ok()
                .and_then(|s| {
                    let study = s.find_study("t").ok()??;
                    Some(!s.trials(study.id).ok()?.is_empty())
                })
                .unwrap_or(false);
        if claimed {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no trial started"
        );
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), None, "killed by the signal: {err}");
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("recorded as interrupted"), "{err}");
    assert!(
        !err.contains("supernet") && !err.contains("checkpoint"),
        "{err}"
    );
    let trials = trials_of(&db, "t");
    assert!(
        trials.iter().all(|t| t.state != TrialState::Running),
        "{trials:?}"
    );
    let failed: Vec<_> = trials
        .iter()
        .filter(|t| t.state == TrialState::Failed)
        .collect();
    assert_eq!(failed.len(), 1, "{trials:?}");
    assert_eq!(failed[0].fail_kind, Some(FailKind::Interrupted));
}
