//! `[recall]`: the in-context tasks of a study with the `recall` objective.
//! The table without the objective is refused (it would train nothing), and
//! the objective without the table takes the defaults.

use serde::Deserialize;
use toml::Spanned;

use super::ctx::{one_of, values, Checked, Ctx, List};
use crate::limits::{MAX_BATCH, MAX_EVAL_BATCHES, MAX_SEQ_LEN, MAX_STEPS, MAX_VOCAB};
use crate::objective::Objective;
use crate::space::{RecallSettings, SpaceError};
use crate::tasks::TaskKind;

/// The `[recall]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRecall {
    tasks: Option<List<String>>,
    tokens: Option<Spanned<i64>>,
    pairs: Option<List<i64>>,
    copies: Option<List<i64>>,
    keys: Option<Spanned<i64>>,
    values: Option<Spanned<i64>>,
    noise: Option<Spanned<i64>>,
    context: Option<Spanned<i64>>,
    steps: Option<Spanned<i64>>,
    batch_size: Option<Spanned<i64>>,
    lr: Option<Spanned<f64>>,
    eval_batches: Option<Spanned<i64>>,
}

/// Validates `[recall]` against the objectives: `None` when `recall` is not
/// one of them.
pub(super) fn parse(
    ctx: &Ctx<'_>,
    raw: Option<&Spanned<RawRecall>>,
    objectives: &[Objective],
) -> Result<Option<RecallSettings>, SpaceError> {
    let wanted = objectives.contains(&Objective::Recall);
    let raw = match (raw, wanted) {
        (None, false) => return Ok(None),
        (None, true) => return Ok(Some(RecallSettings::default())),
        (Some(raw), false) => {
            return Err(ctx.invalid(
                &raw.span(),
                "recall",
                "the table is given, but `recall` is not among the objectives",
                "`recall` among the objectives, or no [recall] table",
            ))
        }
        (Some(raw), true) => raw.get_ref(),
    };
    let mut s = RecallSettings::default();
    if let Some(list) = &raw.tasks {
        s.tasks = tasks(ctx, list)?;
    }
    // Vocabularies and lengths are capped like those of `[model]` and `[task]`.
    let count = |v: &Option<Spanned<i64>>, key: &str, max: usize, default: usize| {
        ctx.opt_within(v, key, 1, max, "an integer >= 1", default)
    };
    s.keys = count(&raw.keys, "recall.keys", MAX_VOCAB, s.keys)?;
    s.values = count(&raw.values, "recall.values", MAX_VOCAB, s.values)?;
    s.tokens = count(&raw.tokens, "recall.tokens", MAX_VOCAB, s.tokens)?;
    s.noise = count(&raw.noise, "recall.noise", MAX_SEQ_LEN, s.noise)?;
    s.context = count(&raw.context, "recall.context", MAX_SEQ_LEN, s.context)?;
    // Only the listed tasks' difficulties must fit their bounds.
    let recalls = s.tasks.iter().any(|t| *t != TaskKind::SelectiveCopy);
    let copies = s.tasks.contains(&TaskKind::SelectiveCopy);
    s.pairs = Difficulties {
        key: "pairs",
        bound_key: "keys",
        given: &raw.pairs,
        bound_given: &raw.keys,
        checked: recalls,
    }
    .parse(ctx, &s.pairs, s.keys)?;
    s.copies = Difficulties {
        key: "copies",
        bound_key: "context",
        given: &raw.copies,
        bound_given: &raw.context,
        checked: copies,
    }
    .parse(ctx, &s.copies, s.context)?;
    let t = &mut s.training;
    t.steps = count(&raw.steps, "recall.steps", MAX_STEPS, t.steps)?;
    t.batch_size = count(
        &raw.batch_size,
        "recall.batch_size",
        MAX_BATCH,
        t.batch_size,
    )?;
    t.eval_batches = count(
        &raw.eval_batches,
        "recall.eval_batches",
        MAX_EVAL_BATCHES,
        t.eval_batches,
    )?;
    if let Some(lr) = &raw.lr {
        t.lr = ctx.positive_number(lr, "recall.lr", "a learning rate > 0")?;
    }
    Ok(Some(s))
}

fn tasks(ctx: &Ctx<'_>, list: &List<String>) -> Result<Vec<TaskKind>, SpaceError> {
    let expected = one_of(&TaskKind::RECALL, |t| t.as_str());
    let tasks: Checked<TaskKind> = ctx.names(list, "recall.tasks", &expected)?;
    if let Some((t, span)) = tasks.iter().find(|(t, _)| !TaskKind::RECALL.contains(t)) {
        return Err(ctx.invalid(
            span,
            "recall.tasks",
            format!("`{t}` is not an in-context task"),
            expected,
        ));
    }
    Ok(values(&tasks))
}

/// A difficulty list (`pairs`, `copies`) and the key that bounds it
/// (`keys`, `context`), as written.
struct Difficulties<'a> {
    key: &'static str,
    bound_key: &'static str,
    given: &'a Option<List<i64>>,
    bound_given: &'a Option<Spanned<i64>>,
    /// Whether a listed task uses the list (else the bound is not checked).
    checked: bool,
}

impl Difficulties<'_> {
    /// The list as given, else `default`, each at most `bound` when checked.
    /// The error points at the difficulty that is too large when the file
    /// gives the list, else at the bound that is too small for the default.
    fn parse(
        &self,
        ctx: &Ctx<'_>,
        default: &[usize],
        bound: usize,
    ) -> Result<Vec<usize>, SpaceError> {
        let (key, bound_key) = (self.key, self.bound_key);
        let list: Checked<usize> = match self.given {
            Some(list) => ctx.ints(list, &format!("recall.{key}"), 1, MAX_SEQ_LEN, "counts")?,
            None => default.iter().map(|&d| (d, 0..0)).collect(),
        };
        let too_many = list
            .iter()
            .find(|(d, _)| *d > bound)
            .filter(|_| self.checked);
        let Some((too_many, span)) = too_many else {
            return Ok(values(&list));
        };
        let problem = format!("{too_many} {key} do not fit `{bound_key}` = {bound}");
        let expected = format!("`{key}` up to `{bound_key}`");
        Err(match (self.given, self.bound_given) {
            (Some(_), _) | (None, None) => {
                ctx.invalid(span, &format!("recall.{key}"), problem, expected)
            }
            (None, Some(b)) => {
                ctx.invalid(&b.span(), &format!("recall.{bound_key}"), problem, expected)
            }
        })
    }
}
