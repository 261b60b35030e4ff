//! AdamW whose state is plain tensors that can be checkpointed.
//!
//! The proxy trainer uses tch's optimizer, whose moments live inside libtorch
//! where they cannot be saved. The DARTS supernet must resume from a
//! checkpoint exactly, so its two optimizers (network weights and
//! architecture weights α) keep their first and second moments here.

use tch::Tensor;

/// Decoupled weight decay Adam (Loshchilov & Hutter), PyTorch's defaults.
#[derive(Debug)]
pub struct AdamW {
    params: Vec<Tensor>,
    /// Per parameter: whether weight decay applies (matrices yes, vectors no).
    decay: Vec<bool>,
    /// First and second moments, one per parameter, same shapes.
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Updates each parameter has had (its bias correction), as PyTorch
    /// counts them: a parameter a step does not reach does not count it.
    steps: Vec<i64>,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamW {
    /// `decay[i]` says whether `params[i]` is decayed.
    pub fn new(params: Vec<Tensor>, decay: Vec<bool>, weight_decay: f64) -> Self {
        assert_eq!(params.len(), decay.len());
        let m = params.iter().map(Tensor::zeros_like).collect();
        let v = params.iter().map(Tensor::zeros_like).collect();
        let steps = vec![0; params.len()];
        AdamW {
            params,
            decay,
            m,
            v,
            steps,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
        }
    }

    pub fn zero_grad(&mut self) {
        for p in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    /// Scales the gradients of the parameters `reached` marks (all when
    /// `None`) so that their global L2 norm is at most `max_norm`; returns
    /// the norm before scaling. Leaving the others out keeps the result
    /// independent of which unreached parameters happen to hold a zeroed
    /// gradient from an earlier step (a resumed run holds none).
    pub fn clip_grad_norm(&mut self, max_norm: f64, reached: Option<&[bool]>) -> f64 {
        let _guard = tch::no_grad_guard();
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .enumerate()
            .filter(|(i, _)| reached.is_none_or(|r| r[*i]))
            .map(|(_, p)| p.grad())
            .filter(Tensor::defined)
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
        let total = Tensor::stack(&norms, 0).norm().double_value(&[]);
        let scale = max_norm / (total + 1e-6);
        if scale < 1.0 {
            for mut g in grads {
                let _ = g.g_mul_scalar_(scale);
            }
        }
        total
    }

    /// One update of every parameter with learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        self.step_reached(lr, None);
    }

    /// One update of the parameters `reached` marks (all when `None`). The
    /// others keep their values, moments and step counts: a GDAS step runs
    /// one candidate per slot, and the candidates it did not run must not
    /// decay or drift on old momentum. Parameters without a gradient are
    /// skipped too.
    pub fn step_reached(&mut self, lr: f64, reached: Option<&[bool]>) {
        let _guard = tch::no_grad_guard();
        for i in 0..self.params.len() {
            if reached.is_some_and(|r| !r[i]) {
                continue;
            }
            let g = self.params[i].grad();
            if !g.defined() {
                continue;
            }
            self.steps[i] += 1;
            let t = self.steps[i] as i32;
            let (bc1, bc2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
            let p = &mut self.params[i];
            if self.decay[i] && self.weight_decay > 0.0 {
                let _ = p.g_mul_scalar_(1.0 - lr * self.weight_decay);
            }
            let _ = self.m[i]
                .g_mul_scalar_(self.beta1)
                .g_add_(&(&g * (1.0 - self.beta1)));
            let _ = self.v[i]
                .g_mul_scalar_(self.beta2)
                .g_add_(&(&g * &g * (1.0 - self.beta2)));
            let denom = (&self.v[i] / bc2).sqrt() + self.eps;
            let update = &self.m[i] / denom * (lr / bc1);
            let _ = p.g_sub_(&update);
        }
    }

    /// The moments and step counts, named `{prefix}m{i}`, `{prefix}v{i}` and
    /// `{prefix}steps`, for a checkpoint.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.m.len() + 1);
        for (i, (m, v)) in self.m.iter().zip(&self.v).enumerate() {
            out.push((format!("{prefix}m{i}"), m.shallow_clone()));
            out.push((format!("{prefix}v{i}"), v.shallow_clone()));
        }
        out.push((format!("{prefix}steps"), Tensor::from_slice(&self.steps)));
        out
    }

    /// Restores what [`AdamW::state`] saved. Returns the name of the first
    /// missing or misshapen tensor.
    pub fn load_state(
        &mut self,
        prefix: &str,
        find: impl Fn(&str) -> Option<Tensor>,
    ) -> Result<(), String> {
        let _guard = tch::no_grad_guard();
        for i in 0..self.m.len() {
            for (name, slot) in [
                (format!("{prefix}m{i}"), &mut self.m[i]),
                (format!("{prefix}v{i}"), &mut self.v[i]),
            ] {
                let t = find(&name).ok_or_else(|| name.clone())?;
                if t.size() != slot.size() {
                    return Err(name);
                }
                slot.copy_(&t);
            }
        }
        let name = format!("{prefix}steps");
        let steps = find(&name)
            .and_then(|t| Vec::<i64>::try_from(t).ok())
            .filter(|s| s.len() == self.steps.len())
            .ok_or(name)?;
        self.steps = steps;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn minimises_a_quadratic() {
        let x = Tensor::from_slice(&[3.0f32, -2.0]).set_requires_grad(true);
        let mut opt = AdamW::new(vec![x.shallow_clone()], vec![false], 0.0);
        for _ in 0..300 {
            opt.zero_grad();
            let loss = (&x * &x).sum(Kind::Float);
            loss.backward();
            opt.step(0.05);
        }
        assert!(x.abs().max().double_value(&[]) < 0.05, "{x}");
    }

    #[test]
    fn parameters_a_step_does_not_reach_stay_put() {
        let a = Tensor::from_slice(&[1.0f32, 1.0]).set_requires_grad(true);
        let b = Tensor::from_slice(&[1.0f32, 1.0]).set_requires_grad(true);
        let mut opt = AdamW::new(
            vec![a.shallow_clone(), b.shallow_clone()],
            vec![true, true],
            0.1,
        );
        // Both reached once: b gets momentum and a defined gradient.
        opt.zero_grad();
        (&a + &b).sum(Kind::Float).backward();
        opt.step(0.1);
        let b_before = b.copy();
        // Then only a: b keeps its value (no decay, no momentum drift).
        for _ in 0..5 {
            opt.zero_grad();
            (&a * 2.0).sum(Kind::Float).backward();
            opt.step_reached(0.1, Some(&[true, false]));
        }
        assert!(b.equal(&b_before));
        assert!(a.double_value(&[0]) < 0.5);
        let state = opt.state("o/");
        let steps = state.iter().find(|(n, _)| n == "o/steps").unwrap();
        assert_eq!(Vec::<i64>::try_from(&steps.1).unwrap(), vec![6, 1]);
    }

    #[test]
    fn state_round_trips() {
        let x = Tensor::from_slice(&[3.0f32, -2.0]).set_requires_grad(true);
        let mut opt = AdamW::new(vec![x.shallow_clone()], vec![false], 0.0);
        (&x * &x).sum(Kind::Float).backward();
        opt.step(0.1);
        let saved = opt.state("p/");
        let y = Tensor::from_slice(&[0.0f32, 0.0]).set_requires_grad(true);
        let mut other = AdamW::new(vec![y.shallow_clone()], vec![false], 0.0);
        other
            .load_state("p/", |n| {
                saved.iter().find(|(k, _)| k == n).map(|(_, t)| t.copy())
            })
            .unwrap();
        for (name, t) in other.state("p/") {
            let (_, s) = saved.iter().find(|(k, _)| *k == name).unwrap();
            assert!(t.equal(s), "{name}");
        }
        assert_eq!(other.load_state("q/", |_| None), Err("q/m0".to_string()));
    }

    #[test]
    fn clipping_bounds_the_global_norm() {
        let x = Tensor::from_slice(&[1.0f32, 1.0]).set_requires_grad(true);
        let mut opt = AdamW::new(vec![x.shallow_clone()], vec![true], 0.1);
        let loss = (&x * 100.0).sum(Kind::Float);
        loss.backward();
        let before = opt.clip_grad_norm(1.0, None);
        assert!((before - 100.0 * 2f64.sqrt()).abs() < 1e-3);
        assert!((x.grad().norm().double_value(&[]) - 1.0).abs() < 1e-4);
    }
}
