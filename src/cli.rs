//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The default proxy architecture: SSSASS at d_model 64, 4 heads, state 16
/// (the configuration whose quality the README compares with PyTorch).
pub const DEFAULT_ARCH: &str = "d64 S16 S16 S16 A4 S16 S16";

#[derive(Parser, Debug)]
#[command(
    name = "nas",
    version,
    about = "Search hybrid attention + state-space LM architectures with proxy training",
    long_about = "Search hybrid attention + state-space (Mamba-2) language-model \
architectures: train each candidate as a small proxy model on libtorch, measure its \
validation perplexity and its cost, and compare them.\n\n\
Architectures are written in a short form, one token per layer after the width:\n  \
d128 S16 S16 S16 A4* S16 S16 S16 A4*\n\
d128 = d_model 128; S16 = Mamba-2 SSM layer with state 16 (S16e1: expand 1);\n\
A4 = causal attention with 4 heads (A4w64: sliding window of 64; A4*: the weights\n\
shared by every starred layer, Zamba-style); m2 = MLP ratio 2; rope = rotary positions."
)]
pub struct Cli {
    /// Accepted before the command for scripts written for 0.1 (`nas
    /// --threads 1 bench`); hidden, since it acts only where the command's
    /// own `--threads` does.
    #[arg(long, hide = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Train one architecture as a proxy model and report its quality and cost.
    #[command(
        after_help = "Examples:\n  nas train\n  nas train --arch \"d128 S16 S16 A4* S16 S16 A4*\" --steps 500\n  \
nas export --study hybrid --best -o best.toml\n  \
nas train --arch best.toml --corpus my.txt          # the trial's [training] settings\n  \
nas train --arch best.toml --steps 2000 --json      # the same, trained longer\n  \
nas train --task mqar --arch \"d64 S8e1 A4\"          # recall: an SSM below attention\n  \
nas train --task mqar --arch \"d64 rope A4 A4\" --pairs 4,8\n  \
nas train --task digits --arch \"d32 S8 A4\"\n\n\
Defaults per task (steps, batch, lr, evaluation every, held-out batches):\n  \
text                              300, 32, 3e-3, 100, 20 (T 128)\n  \
mqar, noisy-recall                2000, 64, 3e-3, 250, 8\n  \
selective-copy                    1000, 64, 3e-3, 250, 8\n  \
digits                            600, 32, 3e-3, 200 (the whole test split)\n\n\
A design file with a [training] table (as `nas export` writes) trains with those\n\
settings, seed included, for text (a task keeps its own defaults); each flag\n\
given overrides its value."
    )]
    Train(TrainArgs),
    /// Continue a prompt with a model trained on text, one character at a
    /// time, printing the text as it is drawn.
    #[command(
        after_help = "Examples:\n  nas train --steps 1000 --out runs/shakespeare\n  \
nas generate --checkpoint runs/shakespeare --prompt \"ROMEO:\"\n  \
nas generate --checkpoint runs/shakespeare --prompt \"To be\" --temperature 0   # greedy\n  \
nas generate --checkpoint runs/shakespeare --prompt \"KING\" --tokens 500 --top-k 5 --seed 3\n\n\
The prompt is fed through the model token by token (SSM layers carry their state,\n\
attention layers a KV cache), then each next character is drawn from the model's\n\
distribution and fed back. Every prompt character must be in the vocabulary of the\n\
corpus the model was trained on (the folder's vocab.json); one that is not is an\n\
error (exit 2). The same checkpoint, prompt and --seed give the same text.\n\
A step of a proxy-sized model is a few small products: --threads 1 is often\n\
fastest, and far faster than several threads on a busy machine."
    )]
    Generate(GenerateArgs),
    /// Measure training-step speed, printing one JSON line (tokens/s, step
    /// times, parameters) in the shape a PyTorch speed script can match;
    /// with --decode, per-token decode latency and cache bytes by context.
    #[command(
        after_help = "Examples:\n  nas bench --arch SSSASS --d 128 --T 256 --B 16\n  \
nas bench --threads 1 --arch \"d128 S16 A4w64 S16\" --steps 10\n  \
nas bench --decode --context 512,2048,8192 --arch \"d128 A4 A4 A4 A4\" \"d128 S16 S16 S16 A4\"\n\n\
nas bench --sweep-T 512,1024,2048,4096,8192,16384 --arch SSSSSS AAAAAA SSSASS --plot sweep.png\n\n\
--decode prints one JSON line per design and context: token_ms (median), tokens_per_s,\n\
kv_cache, conv_window and ssm_state bytes and their total state_bytes.\n\
--sweep-T prints a table (with --json, one line per point: arch, T, ms_per_token,\n\
forward_ms, peak_bytes, baseline_bytes, model_peak_bytes, flops_per_token,\n\
kv_cache_bytes, ssm_state_bytes). Time is the median full forward of one sequence\n\
(--steps timed, default 3, after one untimed); memory is the peak resident set of a\n\
fresh process per point, model_peak_bytes its rise over the process before the model."
    )]
    Bench(BenchArgs),
    /// Run (or continue) a search study: propose, train and store trials.
    #[command(
        after_help = "Examples:\n  nas run --space search_spaces/hybrid.toml\n  \
nas run --space tiny --jobs 2\n  nas run --space hybrid --study jamba-like --trials 100   # continue to 100\n  \
nas run --space tiny --evaluator analytic --trials 5000 --json\n  \
nas run --space tiny --strategy darts --study tiny-darts    # supernets, then derived trials\n  \
nas run --space hybrid --study fast --pruner asha --trials 2000 --budget-hours 0.5\n\n\
Running the same command again continues the study to its budget; trials a killed\n\
run left behind are failed and their slots trained again, and a DARTS supernet goes\n\
on from its last checkpoint. Several processes on one --storage share the budget.\n\
Ctrl-C stops cleanly (exit 130).\n\n\
With --pruner (or a [pruner] table in the space) each trial is scored on the\n\
validation batches at its rungs and goes on only if it ranks in the best 1/η of the\n\
trials that reached the rung before it (by loss, and by the space's costs as in\n\
MO-ASHA); otherwise it ends pruned@STEP with its values there. Decisions are taken\n\
in the store, so --jobs, several processes and a resumed run all keep them."
    )]
    Run(RunArgs),
    /// List the studies in a store: strategy, evaluator, trial counts, budget,
    /// best perplexity and compute.
    #[command(
        after_help = "Examples:\n  nas studies\n  nas studies --storage sqlite:///runs/other.db\n  \
NAS_STORAGE=/data/nas.db nas studies --json | jq -r .name\n\n\
--json prints one object per study: name, strategy, evaluator, stand_in (true when\n\
the values are the analytic evaluator's stand-ins), trials per state, budget,\n\
best_val_ppl, compute_s and compute_steps (training steps: a complete trial's\n\
budget, a pruned one's rung), pruner (its settings, or null), objectives and created\n\
(ISO 8601 UTC)."
    )]
    Studies(StudiesArgs),
    /// List the trials of a study: a table, CSV for a data frame, or JSON lines.
    #[command(after_help = "Examples:\n  nas trials --study hybrid --sort ppl\n  \
nas trials --study hybrid --state failed\n  \
nas trials --study hybrid --format csv > hybrid.csv   # pandas.read_csv(\"hybrid.csv\")\n  \
nas trials --study hybrid --format json | jq .metrics.val_ppl\n  \
nas trials --study seed-ratio --group --sort ppl      # a grid's designs over their seeds\n\n\
The CSV has a header and one row per trial: number, state, arch, hash, depth,\n\
d_model, attention_ratio (attention layers / depth), pattern (SSSASS), seed,\n\
started, finished (ISO 8601 UTC), duration_s, fail_kind, error, evaluator, then one\n\
column per value any trial stored (val_ppl, params, ...), empty where absent.\n\
The table's start times are UTC too.\n\n\
--group gives one row per design over its complete trials (a grid's repeats):\n\
n, the seeds, and each value's mean and sample sd (NAME_mean, NAME_sd in the CSV;\n\
{mean, sd, n} per value in JSON; sd is empty or null for one trial).")]
    Trials(TrialsArgs),
    /// Every trial's learning curve of a study: a table of the value at each
    /// evaluated step, JSON lines, or a PNG/SVG plot.
    #[command(after_help = "Examples:\n  nas curves --study hybrid\n  \
nas curves --study hybrid --plot curves.png\n  \
nas curves --study replay --storage runs/pruning-replay.db --rungs 33,99 --plot curves.svg\n  \
nas curves --study hybrid --metric train_loss --json | jq .points\n\n\
One row per trial that did not fail: its number, state (pruned@STEP for a pruned\n\
trial), design and the value at each step its training evaluated (every\n\
[training] eval_interval steps and at the end; `-` where it has none). The plot\n\
draws complete and running trials in colour, pruned ones grey beneath them, and a\n\
dashed line at each --rungs step (see `nas replay`). Nothing is written to the store.")]
    Curves(CurvesArgs),
    /// A study's designs as the lecture's comparison tables: measured perplexity,
    /// recall, training time and latency (mean ± sd over seeds), costs, ratios.
    #[command(
        after_help = "Examples:\n  nas run --space seed-ratio && nas report --study seed-ratio\n  \
nas report --study seed-compare > compare.md\n  \
nas report --study seed-compare --format json | jq .ratios.cache_bytes\n\n\
One row per design over its complete trials, in the order of each design's first\n\
trial (a grid's order), so the first row is the baseline of the ratio columns.\n\
Measured: val ppl, recall (the mean and each task and difficulty), train s and\n\
latency ms (a forward pass of one sequence of the space's context). From the cost\n\
model: params, FLOPs/token, KV-cache and SSM-state bytes. --format json prints\n\
one object per design."
    )]
    Report(ReportArgs),
    /// Check a study's proxy: retrain some of its designs longer and on more
    /// seeds, and measure how well the short training ranked them.
    #[command(
        after_help = "Examples:\n  nas fidelity --study hybrid                       # 8 designs, 4x the steps, 2 seeds\n  \
nas fidelity --study hybrid --factor 4 --sample 12 --seeds 3\n  \
nas fidelity --study hybrid --no-train            # the plan, or the finding so far\n  \
nas fidelity --study hybrid --no-train --plot fidelity.png\n  \
nas fidelity --study hybrid --json | jq .proxy.rho\n\n\
The designs retrained are the study's Pareto front, then a spread of the rest along\n\
its perplexity ranking, best and worst included. They train in a linked grid study\n\
(default name STUDY-xFACTOR, listed by `nas studies`) with the study's space and\n\
[training] steps (and evaluation interval) times --factor, on seeds S, S+1, ... where\n\
S is the study's seed: the first seed is the proxy trials' own. Running the command\n\
again continues that study and reports again; Ctrl-C stops cleanly (exit 130).\n\n\
Reported: Kendall τ-b and Spearman ρ between proxy and long-budget perplexity (the\n\
mean over seeds); the same for parameter count alone, which a proxy must beat; seed\n\
against seed at the long budget; the pooled sd over seeds against the sd between\n\
designs; and how many proxy-front designs stay on the front. NAS practice counts\n\
ρ >= 0.8 as strong and about 0.6 as weak."
    )]
    Fidelity(FidelityArgs),
    /// Replay early stopping on a study trained to the full budget: what ASHA
    /// or Hyperband would have spent, and found, in many random orders.
    #[command(
        after_help = "Examples:\n  nas replay --study replay --storage runs/pruning-replay.db\n  \
nas replay --study hybrid --pruner asha --min-steps 33 --eta 3 --orders 50\n  \
nas replay --study hybrid --by-loss --json | jq .replays[0].comparison.compute_ratio\n\n\
Nothing is trained and nothing is written. Each complete trial's stored validation\n\
curve gives its loss at every rung, so the study must have been trained with an\n\
[training] eval_interval that divides every rung (the default rungs, a ninth and a\n\
third of the steps, need eval_interval = steps / 9, e.g. 33 for 300 steps). In each\n\
random order one worker runs the designs: random search trains each to the end; the\n\
pruner stops a design at the first rung where it is not in the best 1/η of the\n\
designs that reached that rung before it (with the study's costs known before\n\
training as further objectives, unless --by-loss), and is charged the steps it ran.\n\n\
Reported per pruner, median and quartiles over the orders: the steps it needs to\n\
complete the study's best design as a share of random search's in the same order\n\
(inf where it stopped that design), its total steps as a share of random search's,\n\
and the hypervolume of the designs it completed against random search's at the same\n\
steps; then Kendall's τ between the loss at each evaluated step and the final loss."
    )]
    Replay(ReplayArgs),
    /// Delete or rename a study.
    #[command(
        after_help = "Examples:\n  nas study rename hybrid hybrid-v1\n  nas study delete scratch\n  \
nas study delete scratch --yes            # no question (scripts, CI)\n\n\
Delete asks before removing a study with all its trials, values, curves and\n\
supernet checkpoints; without a terminal to ask on it needs --yes (exit 2\n\
otherwise, nothing deleted). Plots under runs/<study>/ stay on disk; the command\n\
names them."
    )]
    Study(StudyArgs),
    /// Write one trial's architecture, metrics and training settings to a file
    /// that `nas train --arch FILE` accepts, or as a Hugging Face config.
    #[command(
        after_help = "Examples:\n  nas export --study hybrid --best -o best.toml\n  \
nas export --study hybrid --best --max-cost 2e6 -o small.toml\n  \
nas export --study hybrid --trial 12 --format json -o t12.json\n  \
nas export --study hybrid --best -o - | less\n  \
nas export --study hybrid --best --format nemotron-h -o hf/best\n\n\
nemotron-h, bamba, zamba2 and falcon-h1 (all-parallel designs) write\n\
config.json for the nearest transformers\n\
family (AutoConfig.from_pretrained(\"hf/best\") loads it; train from it with\n\
AutoModelForCausalLM.from_config) and NOT_CARRIED.txt, what the family cannot\n\
say: per-layer shapes flattened to one, windows, the MLP's activation, the\n\
norm. A design the family cannot express at all is refused with the reason."
    )]
    Export(ExportArgs),
    /// The Pareto front of cost against perplexity: a table, and a plot with --plot.
    #[command(
        after_help = "Examples:\n  nas pareto --study hybrid\n  nas pareto --study hybrid --cost params --plot\n  \
nas pareto --study random --study evolution --plot compare.svg\n\n\
Hypervolume is the area between the front and a reference point (worst cost and\n\
perplexity over all plotted trials, plus 10% of their range, unless --reference);\n\
with several studies one reference serves all, so their hypervolumes compare."
    )]
    Pareto(ParetoArgs),
    /// Evaluate one architecture against a space's objectives and print one
    /// JSON line; with --study, record it as a trial of that study. This is the
    /// ask-and-tell door for external optimisers (Optuna, scripts).
    #[command(
        after_help = "Examples:\n  nas eval --space hybrid --arch \"d64 S16 A4 S16 S16\" --evaluator analytic\n  \
nas eval --space hybrid --arch \"d64 S16 A4 S16 S16\" --study external --trials 200\n\n\
Exit status 2 (with {\"in_space\": false, ...} on stdout) when the design is outside the space."
    )]
    Eval(EvalArgs),
    /// A DARTS study's supernets: each search's progress, final architecture
    /// weights and derived architecture; --plot draws how α evolved.
    #[command(
        after_help = "Examples:\n  nas run --space tiny --strategy darts --study tiny-darts\n  \
nas darts --study tiny-darts --plot\n  nas darts --study tiny-darts --json\n\n\
Each supernet shape of the space's [darts] (depth x d_model) is warmed up once and\n\
searched at every λ of `lambdas`; each search's final α, discretised into the space,\n\
is trained from scratch as a trial. `nas studies` shows the compute each study used."
    )]
    Darts(DartsArgs),
    /// Move studies between stores: from a laptop's SQLite file to a shared
    /// PostgreSQL server, or back.
    #[command(
        after_help = "Examples:\n  nas db copy --from runs/nas.db --to postgres://nas:secret@db.lab:5432/nas\n  \
nas db copy --from runs/nas.db --to postgres://nas@db.lab/nas --study hybrid\n  \
nas db copy --from postgres://nas@db.lab/nas --to backup.db --json\n\n\
Each study is copied whole (trials with their numbers, states and times, values,\n\
curves, rung decisions, DARTS state) in one transaction of the target, read back\n\
and its counts checked against the source. The source is only read. A study name\n\
the target has already is refused before anything is written (rename one first:\n\
nas study rename)."
    )]
    Db(DbArgs),
    /// Print a shell completion script for nas.
    #[command(
        after_help = "Examples:\n  nas completions bash > ~/.local/share/bash-completion/completions/nas\n  \
nas completions zsh > ~/.zfunc/_nas          # with fpath+=(~/.zfunc) before compinit\n  \
nas completions fish > ~/.config/fish/completions/nas.fish"
    )]
    Completions(CompletionsArgs),
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args, Debug)]
pub struct StudiesArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// One JSON object per study instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StudyArgs {
    #[command(subcommand)]
    pub action: StudyAction,
}

#[derive(Subcommand, Debug)]
pub enum StudyAction {
    /// Delete a study with all its trials, values, curves and supernet
    /// checkpoints, in one transaction.
    #[command(
        after_help = "Examples:\n  nas study delete scratch\n  nas study delete scratch --yes --storage runs/old.db"
    )]
    Delete(StudyDeleteArgs),
    /// Give a study another name (its trials stay as they are).
    #[command(after_help = "Examples:\n  nas study rename hybrid hybrid-v1")]
    Rename(StudyRenameArgs),
}

#[derive(Args, Debug)]
pub struct DbArgs {
    #[command(subcommand)]
    pub action: DbAction,
}

#[derive(Subcommand, Debug)]
pub enum DbAction {
    /// Copy studies from one store to another (SQLite or PostgreSQL, either way).
    #[command(
        after_help = "Examples:\n  nas db copy --from runs/nas.db --to postgres://nas@db.lab/nas\n  \
nas db copy --from runs/nas.db --to postgres://nas@db.lab/nas --study a --study b"
    )]
    Copy(DbCopyArgs),
}

#[derive(Args, Debug)]
pub struct DbCopyArgs {
    /// The store to read (never written): a SQLite file or sqlite: URL, or postgres://.
    #[arg(long, value_name = "STORE")]
    pub from: String,
    /// The store to write (created and migrated if new).
    #[arg(long, value_name = "STORE")]
    pub to: String,
    /// A study to copy (repeatable); default: every study of --from.
    #[arg(long = "study", value_name = "NAME")]
    pub studies: Vec<String>,
    /// One JSON object per copied study instead of a line of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StudyDeleteArgs {
    /// The study to delete.
    pub name: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Delete without asking (needed when stdin is not a terminal).
    #[arg(long, short)]
    pub yes: bool,
}

#[derive(Args, Debug)]
pub struct StudyRenameArgs {
    /// The study's name now.
    pub old: String,
    /// Its new name (letters, digits, `.`, `_`, `-`), which no other study has.
    pub new: String,
    #[command(flatten)]
    pub store: StoreArgs,
}

#[derive(Args, Debug)]
pub struct DartsArgs {
    /// A study run with `--strategy darts` (or `strategy = "darts"`).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Draw the α trajectories: PNG or SVG, as FILE ends in .png or .svg
    /// (any other name is refused; default: runs/<study>/alphas.png).
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub plot: Option<Option<PathBuf>>,
    /// One JSON object per search (shape and λ) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Search space: its objectives, task and training settings apply.
    #[arg(long, default_value = "hybrid")]
    pub space: String,
    /// Architecture: a short form such as "d64 S16 A4 S16", or a .toml/.json file.
    #[arg(long)]
    pub arch: String,
    #[arg(long, value_enum, default_value_t = EvaluatorArg::Train)]
    pub evaluator: EvaluatorArg,
    /// Record the evaluation as a trial of this study (created if needed).
    #[arg(long)]
    pub study: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Budget of the study (default: a new study takes the space's
    /// `trials`, an existing one keeps its own).
    #[arg(long, requires = "study")]
    pub trials: Option<usize>,
    /// Training seed (default: the space's).
    #[arg(long)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub threads: ThreadsArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CostArg {
    Flops,
    Params,
    #[value(name = "kv_cache", alias = "kv-cache")]
    KvCache,
    Latency,
}

#[derive(Args, Debug)]
pub struct ParetoArgs {
    /// Study to show; repeat to overlay several (compare strategies or seeds).
    #[arg(long, required = true)]
    pub study: Vec<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Cost axis (default: the first study's cost objective).
    #[arg(long, value_enum)]
    pub cost: Option<CostArg>,
    /// Hypervolume reference point as COST,PPL, or COST,PPL,RECALL for a
    /// study with the recall objective.
    #[arg(long, value_name = "COST,PPL[,RECALL]")]
    pub reference: Option<String>,
    /// Draw the front: PNG or SVG, as FILE ends in .png or .svg (any other
    /// name is refused; default: runs/<study>/pareto-<cost>.png). With the recall objective,
    /// markers are coloured by recall, and a second figure of recall against
    /// cost goes beside it (FILE with `-recall` before the extension).
    #[arg(long, value_name = "FILE", num_args = 0..=1)]
    pub plot: Option<Option<std::path::PathBuf>>,
    /// Log-scale cost axis (default: when the costs span more than a decade).
    #[arg(long, conflicts_with = "linear_x")]
    pub log_x: bool,
    /// Linear cost axis.
    #[arg(long)]
    pub linear_x: bool,
    /// One JSON object per study instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Each design once, with the means of its complete trials (a grid's
    /// seeds): the front of the means, numbered by each design's first trial;
    /// the plot draws each mean with a bar of ± one sd over the seeds.
    #[arg(long)]
    pub group: bool,
}

/// `--device`, on the commands that train or time a model.
#[derive(Args, Debug, Clone, Copy)]
pub struct DeviceArg {
    /// Where tensors live: auto (a GPU when libtorch sees one, else the CPU),
    /// cpu, cuda (worker k of --jobs K on GPU k mod N) or cuda:N. This build
    /// has no CUDA unless `scripts/setup.sh --cuda` made it.
    #[arg(long, default_value = "auto", value_name = "DEVICE", value_parser = parse_device)]
    pub device: hybrid_nas::device::DeviceChoice,
}

fn parse_device(s: &str) -> Result<hybrid_nas::device::DeviceChoice, String> {
    s.parse()
        .map_err(|e: hybrid_nas::device::DeviceError| e.to_string())
}

/// `--threads`, on the commands that compute.
#[derive(Args, Debug, Default)]
pub struct ThreadsArg {
    /// libtorch intra-op threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl Command {
    /// The `--threads` of a command that computes; `None` for the others
    /// (listings, plots) and when it is not given.
    pub fn threads(&self) -> Option<usize> {
        match self {
            Command::Train(a) => a.threads.threads,
            Command::Generate(a) => a.threads.threads,
            Command::Bench(a) => a.threads.threads,
            Command::Run(a) => a.threads.threads,
            Command::Eval(a) => a.threads.threads,
            Command::Fidelity(a) => a.threads.threads,
            _ => None,
        }
    }
}

/// Default database of studies.
pub const DEFAULT_STORAGE: &str = "runs/nas.db";

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// SQLite database: a path, or a URL as SQLAlchemy and Optuna write them
    /// (sqlite:///relative.db, sqlite:////absolute/path.db); or a PostgreSQL
    /// database shared by many machines (postgres://USER:PASSWORD@HOST:PORT/DB).
    #[arg(long, env = "NAS_STORAGE", default_value = DEFAULT_STORAGE)]
    pub storage: String,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EvaluatorArg {
    /// Train each architecture as a proxy model (the real search).
    Train,
    /// Closed-form stand-in score (milliseconds a trial): for tests and benchmarks.
    Analytic,
}

impl From<EvaluatorArg> for hybrid_nas::evaluate::EvaluatorKind {
    fn from(arg: EvaluatorArg) -> Self {
        match arg {
            EvaluatorArg::Train => Self::Train,
            EvaluatorArg::Analytic => Self::Analytic,
        }
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Search space: a TOML file, or a bundled space by name (hybrid, tiny, recall,
    /// seed-compare, seed-ratio, seed-placement).
    #[arg(long, default_value = "hybrid")]
    pub space: String,
    /// Study name (default: the space's name). Continues the study if it exists.
    #[arg(long)]
    pub study: Option<String>,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Trial budget; raising it extends a study (default: a new study takes
    /// the space's `trials`, a continued one keeps its own).
    #[arg(long)]
    pub trials: Option<usize>,
    /// Trials trained at once in this process; the cores are split between them.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Strategy (default: the space's): random, evolution, darts or grid (the designs of the space's [grid]).
    #[arg(long)]
    pub strategy: Option<String>,
    #[arg(long, value_enum, default_value_t = EvaluatorArg::Train)]
    pub evaluator: EvaluatorArg,
    /// Study seed (default: the space's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop unpromising trials early: asha (one ladder of rungs) or hyperband
    /// (several); none trains every trial to the end. Default: the space's
    /// [pruner] table, else the stored study's pruner, else none. Settings come
    /// from [pruner] when it names the same kind; otherwise a first rung at a
    /// ninth of the training steps and η = 3.
    #[arg(long, value_enum)]
    pub pruner: Option<RunPrunerArg>,
    /// Start no trial once the study's trials have trained this many steps in
    /// all (complete ones their budget, pruned ones to their rung): compare
    /// pruned and unpruned studies at equal compute. Give a --trials large
    /// enough not to stop first.
    #[arg(long, value_name = "STEPS", conflicts_with = "budget_hours")]
    pub budget_steps: Option<usize>,
    /// Start no trial once the study's trials have run this many hours in
    /// all (wall time, running trials counted to now).
    #[arg(long, value_name = "HOURS")]
    pub budget_hours: Option<f64>,
    /// Continue a study even though its space file changed.
    #[arg(long)]
    pub force: bool,
    /// Print one JSON line per finished trial instead of a progress bar.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub device: DeviceArg,
}

/// `nas run --pruner`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum RunPrunerArg {
    None,
    Asha,
    Hyperband,
}

impl From<RunPrunerArg> for hybrid_nas::prune::PrunerKind {
    fn from(arg: RunPrunerArg) -> Self {
        match arg {
            RunPrunerArg::None => Self::None,
            RunPrunerArg::Asha => Self::Asha,
            RunPrunerArg::Hyperband => Self::Hyperband,
        }
    }
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum TrialSort {
    Number,
    Ppl,
    Cost,
    /// Highest recall accuracy first (studies with the recall objective).
    Recall,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TrialsFormat {
    /// Columns for reading in a terminal.
    Table,
    /// A header and one row per trial, every value in its own column.
    Csv,
    /// One JSON object per trial, one per line.
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A Markdown table, ready for a README or a paper's notes.
    Markdown,
    /// One JSON object per design, one per line.
    Json,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// The study to report (`nas studies` lists them).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = ReportFormat::Markdown)]
    pub format: ReportFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PrunerArg {
    Asha,
    Hyperband,
}

#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// A study whose trials trained to the full budget (`nas studies` lists them).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Pruners to replay (default: both).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [PrunerArg::Asha, PrunerArg::Hyperband])]
    pub pruner: Vec<PrunerArg>,
    /// The first rung, in training steps (default: a ninth of the study's steps).
    #[arg(long)]
    pub min_steps: Option<usize>,
    /// η, the reduction factor: each rung keeps the best 1/η.
    #[arg(long = "eta", value_name = "ETA", default_value_t = hybrid_nas::prune::DEFAULT_REDUCTION_FACTOR)]
    pub reduction_factor: usize,
    /// Hyperband's brackets (default: one per rung, and one that trains to the end).
    #[arg(long)]
    pub brackets: Option<usize>,
    /// Random orders of the designs.
    #[arg(long, default_value_t = 20)]
    pub orders: usize,
    /// Seed of the orders.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Rank at a rung by the loss alone, not with the study's costs.
    #[arg(long)]
    pub by_loss: bool,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CurveMetric {
    /// Validation loss at the step (the fixed held-out batches).
    ValLoss,
    /// Mean training loss since the previous evaluation.
    TrainLoss,
}

#[derive(Args, Debug)]
pub struct CurvesArgs {
    /// The study whose curves to show (`nas studies` lists them).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, value_enum, default_value_t = CurveMetric::ValLoss)]
    pub metric: CurveMetric,
    /// Draw the curves to this PNG or SVG file.
    #[arg(long)]
    pub plot: Option<std::path::PathBuf>,
    /// Steps to mark with a dashed line, e.g. a pruner's rungs: 33,99
    /// (default: the study's own rungs when it prunes).
    #[arg(long, value_delimiter = ',')]
    pub rungs: Vec<usize>,
    /// One JSON object per trial, one per line.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct FidelityArgs {
    /// The study whose proxy to check (`nas studies` lists them).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Training steps of the retrained trials, as a multiple of the study's.
    #[arg(long, default_value_t = 4)]
    pub factor: usize,
    /// Designs to retrain: the front, then a spread of the rest (default 8;
    /// a continued check keeps its own).
    #[arg(long)]
    pub sample: Option<usize>,
    /// Seeds per retrained design, the study's own first (default 2; a
    /// continued check keeps its own).
    #[arg(long)]
    pub seeds: Option<usize>,
    /// Name of the linked study (default: STUDY-xFACTOR).
    #[arg(long)]
    pub linked: Option<String>,
    /// Report what the linked study holds now (or the plan, before it
    /// exists): trains nothing, writes nothing.
    #[arg(long)]
    pub no_train: bool,
    /// Draw proxy against long-budget perplexity, one point per design, to
    /// this file (PNG or SVG, by its extension).
    #[arg(long)]
    pub plot: Option<std::path::PathBuf>,
    /// Print the finding as one JSON object (and, while training, one JSON
    /// line per finished trial).
    #[arg(long)]
    pub json: bool,
    /// Trials trained at once; the cores are split between them.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    #[command(flatten)]
    pub threads: ThreadsArg,
}

#[derive(Args, Debug)]
pub struct TrialsArgs {
    /// The study whose trials to list (`nas studies` lists them).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Only trials in this state (running, complete, pruned, failed).
    #[arg(long)]
    pub state: Option<String>,
    #[arg(long, value_enum, default_value_t = TrialSort::Number)]
    pub sort: TrialSort,
    #[arg(long, value_enum, default_value_t = TrialsFormat::Table)]
    pub format: TrialsFormat,
    /// The same as --format json.
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// One row per design: the mean and sd of each value over its complete
    /// trials (the seeds of a grid study); sorted by the means.
    #[arg(long, conflicts_with = "state")]
    pub group: bool,
}

impl TrialsArgs {
    /// The output asked for, `--json` included.
    pub fn output(&self) -> TrialsFormat {
        if self.json {
            TrialsFormat::Json
        } else {
            self.format
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The design and its training settings, as `nas train --arch FILE` reads them.
    Toml,
    /// The same document as JSON.
    Json,
    /// A Hugging Face transformers config.json (NemotronHForCausalLM) in folder -o.
    NemotronH,
    /// A Hugging Face transformers config.json (BambaForCausalLM) in folder -o.
    Bamba,
    /// A Hugging Face transformers config.json (Zamba2ForCausalLM) in folder -o.
    Zamba2,
    /// A Hugging Face transformers config.json (FalconH1ForCausalLM) in folder -o,
    /// for designs whose every layer is parallel.
    FalconH1,
}

impl ExportFormat {
    /// As `--format` takes it, and for toml and json the file extension.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Toml => "toml",
            ExportFormat::Json => "json",
            ExportFormat::NemotronH => "nemotron-h",
            ExportFormat::Bamba => "bamba",
            ExportFormat::Zamba2 => "zamba2",
            ExportFormat::FalconH1 => "falcon-h1",
        }
    }
}

#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["trial", "best"])))]
pub struct ExportArgs {
    /// The study the trial belongs to (`nas studies` lists them).
    #[arg(long)]
    pub study: String,
    #[command(flatten)]
    pub store: StoreArgs,
    /// The trial number to export.
    #[arg(long)]
    pub trial: Option<i64>,
    /// The complete trial with the lowest validation perplexity.
    #[arg(long)]
    pub best: bool,
    /// With --best: only trials whose cost (the study's cost objective) is at most this.
    #[arg(long, requires = "best")]
    pub max_cost: Option<f64>,
    /// Default: from the file extension (.toml or .json); toml with `-o -`.
    /// A format the extension contradicts is refused. The Hugging Face
    /// formats write a folder: config.json and NOT_CARRIED.txt, the list of
    /// what the family cannot say about the design.
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Output file, its format from its extension (.toml or .json); `-` writes
    /// the document to standard output (and the note on what was exported to
    /// standard error). With a Hugging Face --format: the folder to write.
    #[arg(long, short)]
    pub output: std::path::PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TaskArg {
    Text,
    Mqar,
    SelectiveCopy,
    NoisyRecall,
    Digits,
}

impl From<TaskArg> for hybrid_nas::tasks::TaskKind {
    fn from(arg: TaskArg) -> Self {
        match arg {
            TaskArg::Text => Self::Text,
            TaskArg::Mqar => Self::Mqar,
            TaskArg::SelectiveCopy => Self::SelectiveCopy,
            TaskArg::NoisyRecall => Self::NoisyRecall,
            TaskArg::Digits => Self::Digits,
        }
    }
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Architecture: a .toml or .json file (an exported trial works as is),
    /// or a short form such as "d128 S16 S16 A4 S16".
    #[arg(long, default_value = DEFAULT_ARCH)]
    pub arch: String,
    /// What to train on: `text` (the corpus, perplexity), an in-context task
    /// scored by exact-match accuracy at its answers (`mqar`: multi-query
    /// associative recall; `noisy-recall`: the same with noise between the
    /// pairs; `selective-copy`), or `digits` (8x8 images as pixel sequences,
    /// classified at the end; test accuracy).
    #[arg(long, value_enum, default_value_t = TaskArg::Text)]
    pub task: TaskArg,
    /// MQAR and noisy-recall difficulties: key-value pairs per sequence, each
    /// scored apart [default: 4,5].
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub pairs: Option<Vec<usize>>,
    /// MQAR and noisy-recall vocabulary: distinct key tokens and distinct
    /// value tokens; selective copy: data tokens [default: 32 and 16].
    #[arg(long, value_name = "N")]
    pub vocab: Option<usize>,
    /// Selective-copy difficulties: tokens to copy [default: 3,4].
    #[arg(long, value_delimiter = ',', value_name = "N,...")]
    pub copies: Option<Vec<usize>>,
    /// UTF-8 text to train on, character-level; the last 10% is held out.
    /// Default: the Shakespeare corpus that scripts/setup.sh installs.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Optimiser steps [default: the task's, listed below].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Sequences per batch [default: the task's].
    #[arg(long, visible_alias = "B")]
    pub batch: Option<usize>,
    /// Characters per sequence, the context length T (text only; a task
    /// sets its own) [default: 128].
    #[arg(long, visible_alias = "T")]
    pub seq_len: Option<usize>,
    /// Peak learning rate (linear warm-up over 5% of steps, then cosine to 0)
    /// [default: 0.003].
    #[arg(long)]
    pub lr: Option<f64>,
    /// AdamW weight decay, applied to matrices only [default: 0.1].
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Evaluate on the fixed held-out batches every this many steps
    /// [default: the task's].
    #[arg(long)]
    pub eval_interval: Option<usize>,
    /// Held-out batches per evaluation [default: the task's].
    #[arg(long)]
    pub eval_batches: Option<usize>,
    /// Seed of the initial weights and the batch order [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Directory for the checkpoint, architecture, metrics and vocabulary;
    /// files already in it are replaced. Default: runs/train/<arch hash>-s<seed>,
    /// or `...-s<seed>-2`, `-3`, ... when an earlier run has that folder.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Write to runs/train/<arch hash>-s<seed> even when an earlier run is
    /// there, replacing its files.
    #[arg(long, conflicts_with = "out")]
    pub overwrite: bool,
    /// Print one JSON object with every metric instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub device: DeviceArg,
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    /// A folder `nas train` wrote for a text model (model.safetensors,
    /// arch.toml, vocab.json).
    #[arg(long, value_name = "DIR")]
    pub checkpoint: PathBuf,
    /// The text to continue; printed first.
    #[arg(long)]
    pub prompt: String,
    /// Characters to generate after the prompt.
    #[arg(long, default_value_t = 200, value_name = "N")]
    pub tokens: usize,
    /// Softmax temperature: below 1 sharper, above 1 flatter; 0 = greedy
    /// (always the most likely character).
    #[arg(long, default_value_t = 0.8, value_name = "T")]
    pub temperature: f64,
    /// Draw only among the K most likely characters; 0 = among all.
    #[arg(long, default_value_t = 0, value_name = "K")]
    pub top_k: usize,
    /// Seed of the draws.
    #[arg(long, default_value_t = 0, value_name = "S")]
    pub seed: u64,
    #[command(flatten)]
    pub threads: ThreadsArg,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Letters, one per layer: A attention, S Mamba-2 SSM (as the peer's --arch);
    /// or a full short form such as "d128 S16 A4w64 S16". Several designs
    /// (one --arch each, or several values) print one line each.
    #[arg(long, default_value = "SSSASS", num_args = 1.., value_name = "ARCH")]
    pub arch: Vec<String>,
    /// d_model (ignored when --arch is a short form).
    #[arg(long = "d", default_value_t = 128)]
    pub d: usize,
    /// Attention heads for A letters.
    #[arg(long, default_value_t = 4)]
    pub heads: usize,
    /// SSM state size for S letters.
    #[arg(long, default_value_t = 16)]
    pub state: usize,
    /// Sequence length.
    #[arg(long = "T", default_value_t = 256)]
    pub t: usize,
    /// Batch size.
    #[arg(long = "B", default_value_t = 16)]
    pub b: usize,
    /// Timed steps (with --decode: tokens timed at each context, the median
    /// reported) [default: 5; 32 with --decode].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Untimed steps first (training only: with --decode, filling the
    /// caches warms up).
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Measure decoding instead of training: the median time of one
    /// token's step at batch 1 once the caches hold each --context, and the
    /// bytes held by KV caches, conv windows and SSM states (f32).
    #[arg(long)]
    pub decode: bool,
    /// With --decode: context lengths to fill the caches to, by stepping
    /// random tokens [default: 512,2048,8192].
    #[arg(long, value_delimiter = ',', value_name = "T,...", requires = "decode")]
    pub context: Option<Vec<usize>>,
    /// Sweep the context length: at each T, the measured time of a full forward
    /// pass at batch 1 per token and the measured peak memory (each point in a
    /// fresh process), beside the cost model's FLOPs and cache bytes.
    #[arg(
        long = "sweep-T",
        value_delimiter = ',',
        value_name = "T,...",
        conflicts_with = "decode"
    )]
    pub sweep_t: Option<Vec<usize>>,
    /// With --sweep-T: one JSON line per point instead of the table.
    #[arg(long, requires = "sweep_t")]
    pub json: bool,
    /// With --sweep-T: a log-log figure of time per token and peak memory
    /// against T (PNG or SVG, by its extension).
    #[arg(long, value_name = "FILE", requires = "sweep_t")]
    pub plot: Option<std::path::PathBuf>,
    /// One point of a sweep, in this process (what --sweep-T runs per point).
    #[arg(long, hide = true, conflicts_with_all = ["decode", "sweep_t"])]
    pub sweep_point: Option<usize>,
    #[command(flatten)]
    pub threads: ThreadsArg,
    #[command(flatten)]
    pub device: DeviceArg,
}
