//! The linked study of a fidelity check: the source study's space, word for
//! word, but trained `factor` times as long and run as a grid of the chosen
//! designs with `seeds` seeds each. A grid's seeds are its study seed + r, and
//! the linked study takes the source's seed, so its first seed is the one the
//! proxy trials trained with: the first repeat differs from the proxy only in
//! budget, the others measure what a seed alone moves.

use toml::{Table, Value};

use crate::arch::Architecture;
use crate::limits::MAX_STEPS;
use crate::space::{SearchSpace, SpaceError, MAX_REPEATS};

/// The most a budget may be multiplied.
pub const MAX_FACTOR: usize = 100;

/// What a linked study is made of.
#[derive(Clone, Debug)]
pub struct LinkedPlan<'a> {
    pub name: &'a str,
    pub source: &'a str,
    pub factor: usize,
    pub seeds: usize,
    /// The source study's seed (a `--seed` may have overridden its space's).
    pub seed: u64,
    pub designs: &'a [Architecture],
}

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("--factor {0}: expected 1 to {MAX_FACTOR} (times the proxy's training steps)")]
    Factor(usize),
    #[error("--seeds {0}: expected 1 to {MAX_REPEATS} seeds per design")]
    Seeds(usize),
    #[error(
        "--factor {factor}: {steps} steps x {factor} is over the most a trial may train \
         ({MAX_STEPS} steps)"
    )]
    TooLong { steps: usize, factor: usize },
    #[error("design `{0}` does not read back from its short form as the same design")]
    ShortForm(String),
    #[error("the stored space of study `{study}` does not read as TOML: {why}")]
    Text { study: String, why: String },
    /// The designs do not fit the source's space (a study that `nas eval`
    /// filled with designs from elsewhere).
    #[error("the linked study's space is invalid: {0}")]
    Space(#[from] SpaceError),
}

/// The linked space: `source`'s text with `[training]` steps (and the
/// evaluation interval) times `factor`, `strategy = "grid"` over `designs`
/// with `seeds` repeats, and the linked study's name; parsed and checked as
/// any space file is (so every design must lie inside the source's space).
pub fn linked_space(source: &SearchSpace, plan: &LinkedPlan<'_>) -> Result<SearchSpace, LinkError> {
    if plan.factor == 0 || plan.factor > MAX_FACTOR {
        return Err(LinkError::Factor(plan.factor));
    }
    if plan.seeds == 0 || plan.seeds > MAX_REPEATS {
        return Err(LinkError::Seeds(plan.seeds));
    }
    let steps = source.training.steps;
    if steps.saturating_mul(plan.factor) > MAX_STEPS {
        return Err(LinkError::TooLong {
            steps,
            factor: plan.factor,
        });
    }
    let text_error = |why: String| LinkError::Text {
        study: plan.source.to_string(),
        why,
    };
    let mut table: Table = source
        .text
        .parse()
        .map_err(|e| text_error(format!("{e}")))?;
    table.insert("name".into(), Value::String(plan.name.into()));
    let training = sub_table(&mut table, "training");
    training.insert("steps".into(), int(steps * plan.factor));
    // The same number of points on every learning curve.
    let interval = source.training.eval_interval * plan.factor;
    training.insert("eval_interval".into(), int(interval.min(MAX_STEPS)));
    let search = sub_table(&mut table, "search");
    search.insert("strategy".into(), Value::String("grid".into()));
    search.insert("seed".into(), Value::Integer(plan.seed as i64));
    let mut grid = Table::new();
    let designs = plan.designs.iter().map(|a| Value::String(a.short_form()));
    grid.insert("designs".into(), Value::Array(designs.collect()));
    grid.insert("repeats".into(), int(plan.seeds));
    table.insert("grid".into(), Value::Table(grid));
    let body = toml::to_string(&table).map_err(|e| text_error(e.to_string()))?;
    let text = format!(
        "# Written by `nas fidelity --study {} --factor {} --seeds {}`: study `{}`'s space,\n\
         # trained {} times as long, on the chosen designs with {} seed(s) each.\n\n{body}",
        plan.source, plan.factor, plan.seeds, plan.source, plan.factor, plan.seeds
    );
    let space = SearchSpace::parse(&text, &format!("study `{}`", plan.name))?;
    // Pairs of proxy and long trials are found by design hash: a design
    // must come back from its short form as itself.
    let listed = space.grid.as_ref().map_or(&[][..], |g| &g.designs[..]);
    for (given, read) in plan.designs.iter().zip(listed) {
        if given.hash() != read.hash() {
            return Err(LinkError::ShortForm(given.short_form()));
        }
    }
    Ok(space)
}

fn int(v: usize) -> Value {
    Value::Integer(v as i64)
}

/// `table[key]` as a table, made (or replacing a non-table) when missing.
fn sub_table<'t>(table: &'t mut Table, key: &str) -> &'t mut Table {
    let entry = table
        .entry(key)
        .or_insert_with(|| Value::Table(Table::new()));
    if !entry.is_table() {
        *entry = Value::Table(Table::new());
    }
    entry.as_table_mut().expect("made a table just above")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SearchSpace {
        SearchSpace::parse(SearchSpace::bundled("tiny").unwrap(), "bundled:tiny").unwrap()
    }

    fn designs(space: &SearchSpace) -> Vec<Architecture> {
        let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(1);
        let mut out: Vec<Architecture> = Vec::new();
        while out.len() < 3 {
            let a = space.sample(&mut rng);
            if !out.iter().any(|b| b.hash() == a.hash()) {
                out.push(a);
            }
        }
        out
    }

    #[test]
    fn the_linked_space_trains_longer_on_the_chosen_designs() {
        let source = tiny();
        let chosen = designs(&source);
        let plan = LinkedPlan {
            name: "tiny-x4",
            source: "tiny",
            factor: 4,
            seeds: 2,
            seed: 7,
            designs: &chosen,
        };
        let linked = linked_space(&source, &plan).unwrap();
        assert_eq!(linked.name, "tiny-x4");
        assert_eq!(linked.training.steps, 4 * source.training.steps);
        assert_eq!(
            linked.training.eval_interval,
            4 * source.training.eval_interval
        );
        assert_eq!(linked.strategy, crate::space::StrategyName::Grid);
        let grid = linked.grid.as_ref().unwrap();
        assert_eq!((&grid.designs, grid.repeats), (&chosen, 2));
        // Everything else is the source's.
        assert_eq!(linked.model, source.model);
        assert_eq!(linked.attention, source.attention);
        assert_eq!(linked.task, source.task);
        assert_eq!(linked.objectives, source.objectives);
        assert_eq!(linked.seed, 7, "the source study's seed");
        assert_eq!(
            (linked.training.lr, linked.training.batch_size),
            (source.training.lr, source.training.batch_size)
        );
        // The same plan writes the same text: a rerun continues the study.
        assert_eq!(linked_space(&source, &plan).unwrap().text, linked.text);
    }

    #[test]
    fn bad_plans_are_refused() {
        let source = tiny();
        let chosen = designs(&source);
        let plan = |factor, seeds| LinkedPlan {
            name: "x",
            source: "tiny",
            factor,
            seeds,
            seed: 0,
            designs: &chosen,
        };
        assert!(matches!(
            linked_space(&source, &plan(0, 2)),
            Err(LinkError::Factor(0))
        ));
        assert!(matches!(
            linked_space(&source, &plan(4, 0)),
            Err(LinkError::Seeds(0))
        ));
        let outside = [Architecture::parse_short_form("d256 A4 A4 A4 A4 A4 A4 A4 A4 A4").unwrap()];
        let err = linked_space(
            &source,
            &LinkedPlan {
                designs: &outside,
                ..plan(4, 2)
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("outside the space"), "{err}");
    }
}
