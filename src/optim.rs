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
    /// Updates taken so far (for bias correction).
    pub steps: i64,
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
        AdamW {
            params,
            decay,
            m,
            v,
            steps: 0,
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

    /// Scales the gradients so that their global L2 norm is at most `max_norm`;
    /// returns the norm before scaling.
    pub fn clip_grad_norm(&mut self, max_norm: f64) -> f64 {
        let _guard = tch::no_grad_guard();
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(Tensor::grad)
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

    /// One update with learning rate `lr`. Parameters without a gradient are
    /// left alone (a GDAS step only reaches the sampled candidates).
    pub fn step(&mut self, lr: f64) {
        let _guard = tch::no_grad_guard();
        self.steps += 1;
        let bc1 = 1.0 - self.beta1.powi(self.steps as i32);
        let bc2 = 1.0 - self.beta2.powi(self.steps as i32);
        for i in 0..self.params.len() {
            let g = self.params[i].grad();
            if !g.defined() {
                continue;
            }
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

    /// The moments, named `{prefix}m{i}` and `{prefix}v{i}`, for a checkpoint.
    pub fn state(&self, prefix: &str) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.m.len());
        for (i, (m, v)) in self.m.iter().zip(&self.v).enumerate() {
            out.push((format!("{prefix}m{i}"), m.shallow_clone()));
            out.push((format!("{prefix}v{i}"), v.shallow_clone()));
        }
        out
    }

    /// Restores moments saved by [`AdamW::state`] (`steps` is set separately).
    /// Returns the name of the first missing or misshapen tensor.
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
    fn clipping_bounds_the_global_norm() {
        let x = Tensor::from_slice(&[1.0f32, 1.0]).set_requires_grad(true);
        let mut opt = AdamW::new(vec![x.shallow_clone()], vec![true], 0.1);
        let loss = (&x * 100.0).sum(Kind::Float);
        loss.backward();
        let before = opt.clip_grad_norm(1.0);
        assert!((before - 100.0 * 2f64.sqrt()).abs() < 1e-3);
        assert!((x.grad().norm().double_value(&[]) - 1.0).abs() < 1e-4);
    }
}
