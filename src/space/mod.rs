//! SearchSpace: the TOML file that says which architecture choices exist and
//! their bounds, plus the task, the proxy-training budget, the objectives and the
//! search strategy. This module parses and validates it (`schema/`, one parser
//! per table), and draws, checks and mutates architectures inside it
//! (`sample.rs`, `mutate.rs`).
//!
//! The bundled files `search_spaces/hybrid.toml` and `search_spaces/tiny.toml`
//! document the schema with comments; in short:
//!
//! ```toml
//! name = "hybrid"
//! objectives = ["val_ppl", "flops"]
//!
//! [model]
//! depth = [4, 6, 8]
//! d_model = [64, 128]
//! mlp_ratio = [4]
//!
//! [attention]
//! ratio = [0.0, 0.5]
//! pattern = ["alternating", "uniform", "free"]
//! every = [2, 4, 8]
//! heads = [2, 4]
//! window = [0, 32]
//! shared = [false, true]
//!
//! [ssm]
//! state_dim = [8, 16]
//! expand = [1, 2]
//!
//! [task]
//! seq_len = 128
//!
//! [training]
//! steps = 300
//! batch_size = 32
//! lr = 3e-3
//!
//! [search]
//! strategy = "random"
//! trials = 50
//! ```

pub mod axes;
mod darts;
mod evolution;
mod grid;
mod mutate;
mod recall;
mod sample;
mod schema;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::names::named;
pub use crate::names::UnknownName;
pub use crate::objective::Objective;
use crate::train::TrainConfig;

pub use darts::{DartsSettings, PlannedPhase, SupernetShape, DARTS_COSTS};
pub use evolution::{EvolutionSettings, MIN_POPULATION};
pub use grid::{AxesExpansion, GridSettings, MAX_GRID_DESIGNS, MAX_REPEATS};
pub use mutate::{MutationOp, MutationWeights};
pub use recall::RecallSettings;
pub use sample::Placement;

/// The bundled spaces, by name. `hybrid` is the default.
const BUNDLED: &[(&str, &str)] = &[
    ("hybrid", include_str!("../../search_spaces/hybrid.toml")),
    ("tiny", include_str!("../../search_spaces/tiny.toml")),
    ("recall", include_str!("../../search_spaces/recall.toml")),
    (
        "seed-compare",
        include_str!("../../search_spaces/seed-compare.toml"),
    ),
    (
        "seed-ratio",
        include_str!("../../search_spaces/seed-ratio.toml"),
    ),
    (
        "seed-placement",
        include_str!("../../search_spaces/seed-placement.toml"),
    ),
];

/// The name of the default bundled space.
pub const DEFAULT_SPACE: &str = "hybrid";

/// One search space, parsed and validated. Every choice list is non-empty and
/// free of duplicates, and every combination of choices gives a valid model.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchSpace {
    /// `name` from the file, else the file stem of where it came from.
    pub name: String,
    /// The file's exact text: stored with a study, and what [`SearchSpace::hash`] covers.
    pub text: String,
    /// Where the text came from (a path, or `bundled:NAME`), for messages.
    pub origin: String,
    pub model: ModelChoices,
    pub attention: AttentionChoices,
    pub ssm: SsmChoices,
    pub task: Task,
    /// Proxy training of every trial; `seq_len` comes from `[task]`, `seed` is
    /// set per trial by the search.
    pub training: TrainConfig,
    /// The first is always [`Objective::ValPpl`]; at least one cost follows.
    pub objectives: Vec<Objective>,
    /// `[recall]`, validated: present exactly when `recall` is an objective.
    pub recall: Option<RecallSettings>,
    /// `[pruner]`, validated against `[training]`; `None` without the table
    /// (`nas run --pruner` may still choose one).
    pub pruner: Option<crate::prune::PrunerSettings>,
    pub strategy: StrategyName,
    /// The trial budget of a study.
    pub trials: usize,
    pub seed: u64,
    /// `[evolution]`, validated, with defaults for what the file leaves out.
    pub evolution: EvolutionSettings,
    /// `[darts]`, validated, with defaults for what the file leaves out.
    pub darts: DartsSettings,
    /// `[grid]`, validated (every design inside the space); required by `strategy = "grid"`.
    pub grid: Option<GridSettings>,
}

/// `[model]`: choices that hold for the whole stack.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelChoices {
    /// Layer counts, ascending.
    pub depth: Vec<usize>,
    pub d_model: Vec<usize>,
    pub mlp_ratio: Vec<usize>,
}

/// `[attention]`: how many attention layers, where, and their settings.
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionChoices {
    /// Bounds on the fraction of layers that are attention, inclusive.
    pub ratio_min: f64,
    pub ratio_max: f64,
    pub patterns: Vec<Pattern>,
    /// `alternating`: attention at every k-th layer, k from this list (empty
    /// when `alternating` is not a pattern).
    pub every: Vec<usize>,
    pub heads: Vec<usize>,
    /// 0 = global attention; otherwise a sliding window of that many tokens.
    pub window: Vec<usize>,
    /// Whether all attention layers of a design share one weight set (Zamba).
    pub shared: Vec<bool>,
    /// Whether the attention layers of a design are parallel layers (Hymba):
    /// attention beside an SSM, whose settings come from `[ssm]`. Parallel
    /// layers never share weights.
    pub parallel: Vec<bool>,
}

/// `[ssm]`: settings of the Mamba-2 layers.
#[derive(Clone, Debug, PartialEq)]
pub struct SsmChoices {
    pub state_dim: Vec<usize>,
    pub expand: Vec<usize>,
}

/// `[task]`: what the proxy models learn.
#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    /// A UTF-8 text file, as written (relative paths are taken from the current
    /// directory); `None` = the default corpus.
    pub corpus: Option<PathBuf>,
    pub seq_len: usize,
}

/// Where attention layers go in the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pattern {
    /// Attention at every k-th layer (layers k-1, 2k-1, ...), k from `every`.
    Alternating,
    /// All attention layers at the bottom of the stack.
    ClusteredFirst,
    /// All attention layers at the top.
    ClusteredLast,
    /// One contiguous block in the middle.
    ClusteredMiddle,
    /// Spread evenly: the j-th of n at layer floor((2j + 1) depth / 2n).
    Uniform,
    /// Any positions.
    Free,
}

impl Pattern {
    pub const ALL: [Pattern; 6] = [
        Pattern::Alternating,
        Pattern::ClusteredFirst,
        Pattern::ClusteredLast,
        Pattern::ClusteredMiddle,
        Pattern::Uniform,
        Pattern::Free,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Pattern::Alternating => "alternating",
            Pattern::ClusteredFirst => "clustered_first",
            Pattern::ClusteredLast => "clustered_last",
            Pattern::ClusteredMiddle => "clustered_middle",
            Pattern::Uniform => "uniform",
            Pattern::Free => "free",
        }
    }
}

/// The search strategy named in `[search]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StrategyName {
    Random,
    Evolution,
    Darts,
    Grid,
}

impl StrategyName {
    pub const ALL: [StrategyName; 4] = [
        StrategyName::Random,
        StrategyName::Evolution,
        StrategyName::Darts,
        StrategyName::Grid,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            StrategyName::Random => "random",
            StrategyName::Evolution => "evolution",
            StrategyName::Darts => "darts",
            StrategyName::Grid => "grid",
        }
    }
}

named!(Pattern, "pattern");
named!(StrategyName, "strategy");
named!(MutationOp, "mutation");

/// What is wrong with a search space or its file.
#[derive(Debug, thiserror::Error)]
pub enum SpaceError {
    // `error`, not `source`: the message carries it, and a chained source
    // would print it twice.
    #[error("cannot read {path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// A space file is TOML, which is UTF-8: where the first invalid byte is.
    #[error(
        "{path}:{line}:{column}: not UTF-8 text: byte 0x{byte:02x} at offset {offset} \
         (expected a TOML file in UTF-8)"
    )]
    NotUtf8 {
        path: String,
        line: usize,
        column: usize,
        offset: usize,
        byte: u8,
    },
    #[error("{path} does not exist; a bundled search space is named bare, without `/` or `.toml`: {bundled}")]
    NotFound { path: String, bundled: String },
    /// TOML syntax, a wrong type, an unknown or missing key: toml's own message.
    #[error("{origin}:{line}:{column}: {message}")]
    Toml {
        origin: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed TOML whose values break a rule of the schema.
    #[error("{origin}:{line}:{column}: `{key}`: {problem} (expected {expected})")]
    Invalid {
        origin: String,
        line: usize,
        column: usize,
        key: String,
        problem: String,
        expected: String,
    },
}

impl SearchSpace {
    /// Parses and validates a space. `origin` names the text in messages.
    /// The files it names are not read (a space stored with a study is parsed
    /// here, wherever its corpus is now): [`SearchSpace::load`] checks them.
    pub fn parse(text: &str, origin: &str) -> Result<Self, SpaceError> {
        schema::parse(text, origin, false)
    }

    /// Reads, parses and validates a space file, and checks the corpus it
    /// names (`task.corpus`) as training would, whatever the evaluator.
    pub fn load(path: &Path) -> Result<Self, SpaceError> {
        let origin = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|error| SpaceError::Io {
            path: origin.clone(),
            error,
        })?;
        let text = utf8(bytes, &origin)?;
        schema::parse(&text, &origin, true)
    }

    /// `arg` as a path if it exists; otherwise, when `arg` is a bare name (no
    /// `/`, no `.toml`), the bundled space of that name. A path that does not
    /// exist is an error even when its stem names a bundled space: running
    /// another space than the file asked for, unsaid, would be worse.
    pub fn resolve(arg: &str) -> Result<Self, SpaceError> {
        let path = Path::new(arg);
        if path.exists() {
            return Self::load(path);
        }
        let bare = !arg.contains('/') && !arg.ends_with(".toml");
        if let Some(space) = Self::load_bundled(arg).filter(|_| bare) {
            return space;
        }
        Err(SpaceError::NotFound {
            path: arg.to_string(),
            bundled: BUNDLED
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The text of a bundled space.
    pub fn bundled(name: &str) -> Option<&'static str> {
        BUNDLED.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// Names of the bundled spaces, the default first.
    pub fn bundled_names() -> impl Iterator<Item = &'static str> {
        BUNDLED.iter().map(|(n, _)| *n)
    }

    fn load_bundled(name: &str) -> Option<Result<Self, SpaceError>> {
        Self::bundled(name).map(|text| Self::parse(text, &format!("bundled:{name}")))
    }

    /// Stable identity of the space: the first 16 hex digits of SHA-256 over
    /// the file's exact text.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.text.as_bytes());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The metric names of the objectives, in order (`["val_ppl", "flops"]`).
    pub fn objective_names(&self) -> Vec<&'static str> {
        self.objectives.iter().map(|o| o.as_str()).collect()
    }
}

/// The text of a space file, or where its first byte that is not UTF-8 is
/// (line and column of the valid text before it).
fn utf8(bytes: Vec<u8>, origin: &str) -> Result<String, SpaceError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let before = std::str::from_utf8(&bytes[..offset]).expect("valid up to the offset");
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        SpaceError::NotUtf8 {
            path: origin.to_string(),
            line: before.matches('\n').count() + 1,
            column: before[line_start..].chars().count() + 1,
            offset,
            byte: bytes[offset],
        }
    })
}
