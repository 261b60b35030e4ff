//! `[grid]`: the designs a grid study trains, each with `repeats` seeds
//! (`search::grid`), listed or expanded from axes (`axes.rs`), validated by
//! `schema/grid.rs` against the rest of the space.

use crate::arch::Architecture;

/// The most seeds per design a grid may ask for.
pub const MAX_REPEATS: usize = 1000;
/// The most designs one grid may list.
pub const MAX_GRID_DESIGNS: usize = 100_000;

/// A grid: distinct designs, all inside the space, and seeds per design.
#[derive(Clone, Debug, PartialEq)]
pub struct GridSettings {
    /// In the file's order, each [`crate::space::SearchSpace::check`]ed.
    pub designs: Vec<Architecture>,
    /// Seeds per design (default 1): repeat `r` trains with the study seed + `r`.
    pub repeats: usize,
    /// What `[grid.axes]` expanded to, when the grid has axes.
    pub expansion: Option<AxesExpansion>,
}

/// How `[grid.axes]` became designs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AxesExpansion {
    /// Combinations of one value per axis.
    pub combinations: usize,
    /// Combinations the space does not allow (or that name no placement).
    pub outside: usize,
    /// Designs added to the grid: distinct, and not among `designs`.
    pub added: usize,
}

impl GridSettings {
    /// Trials of the whole grid: its natural budget.
    pub fn size(&self) -> usize {
        self.designs.len() * self.repeats
    }
}
