//! Where a DARTS study's supernet stage stands over all of its phases, and
//! how long the rest should take at the pace this process has trained.

use std::time::Instant;

use hybrid_nas::space::{PlannedPhase, SupernetShape};

pub struct PhaseClock {
    plan: Vec<PlannedPhase>,
    started: Instant,
    /// Steps this process trained in phases that have ended.
    done_before: usize,
    /// The running phase's index in `plan` and the step it started from here
    /// (non-zero when a checkpoint was resumed).
    current: Option<(usize, usize)>,
    last_step: usize,
}

impl PhaseClock {
    pub fn new(plan: Vec<PlannedPhase>) -> Self {
        PhaseClock {
            plan,
            started: Instant::now(),
            done_before: 0,
            current: None,
            last_step: 0,
        }
    }

    /// Phases in the study's plan.
    pub fn len(&self) -> usize {
        self.plan.len()
    }

    /// A phase starts at `step`; its position in the plan, from 1 (`None`
    /// for a phase the plan lacks: a space changed under `--force`).
    pub fn start(
        &mut self,
        shape: SupernetShape,
        lambda: Option<f64>,
        step: usize,
    ) -> Option<usize> {
        self.end_current();
        let index = self
            .plan
            .iter()
            .position(|p| p.shape == shape && p.lambda == lambda);
        self.current = index.map(|i| (i, step));
        self.last_step = step;
        index.map(|i| i + 1)
    }

    pub fn step(&mut self, step: usize) {
        self.last_step = step;
    }

    fn end_current(&mut self) {
        if let Some((_, from)) = self.current.take() {
            self.done_before += self.last_step.saturating_sub(from);
        }
    }

    /// Seconds until the last phase ends, at this process's seconds per step
    /// so far (a search step costs more than a warm-up step, so the estimate
    /// firms up once searches have run); `None` before the first step.
    pub fn eta_s(&self) -> Option<f64> {
        let (i, from) = self.current?;
        let done = self.done_before + self.last_step.saturating_sub(from);
        if done == 0 {
            return None;
        }
        let per_step = self.started.elapsed().as_secs_f64() / done as f64;
        let left_here = self.plan[i].steps.saturating_sub(self.last_step);
        let later: usize = self.plan[i + 1..].iter().map(|p| p.steps).sum();
        Some(per_step * (left_here + later) as f64)
    }
}

/// `35 s`, `4 min 12 s`, `2 h 05 min`.
pub fn human_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Vec<PlannedPhase> {
        let shape = SupernetShape {
            depth: 2,
            d_model: 32,
        };
        [None, Some(0.0), Some(1.0)]
            .into_iter()
            .map(|lambda| PlannedPhase {
                shape,
                lambda,
                steps: 10,
            })
            .collect()
    }

    #[test]
    fn positions_follow_the_plan_and_the_eta_counts_later_phases() {
        let mut clock = PhaseClock::new(plan());
        let shape = plan()[0].shape;
        assert_eq!(clock.len(), 3);
        // Resumed: the warm-up is done; the first search starts at step 4.
        assert_eq!(clock.start(shape, Some(0.0), 4), Some(2));
        assert_eq!(clock.eta_s(), None, "no step trained yet");
        std::thread::sleep(std::time::Duration::from_millis(20));
        clock.step(6);
        // 2 steps trained; 4 left in this phase and 10 in the last one.
        let eta = clock.eta_s().unwrap();
        let per_step = eta / 14.0;
        assert!(per_step >= 0.01, "{per_step}");
        assert_eq!(clock.start(shape, Some(1.0), 0), Some(3));
        assert_eq!(clock.start(shape, Some(0.5), 0), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(35.2), "35 s");
        assert_eq!(human_duration(252.0), "4 min 12 s");
        assert_eq!(human_duration(7500.0), "2 h 05 min");
    }
}
