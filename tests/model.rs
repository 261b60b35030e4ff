//! The proxy model: construction of every layer kind, parameter counts against
//! the cost model, and the SSD scan against the plain recurrence.

use hybrid_nas::arch::Architecture;
use hybrid_nas::cost::Cost;
use hybrid_nas::model::ssm::{sequential_scan, ssd_scan};
use hybrid_nas::model::HybridLm;
use tch::{nn, Kind, Tensor};

fn build(short: &str, vocab: usize) -> (nn::VarStore, HybridLm, Architecture) {
    let mut arch = Architecture::parse_short_form(short).unwrap();
    arch.vocab_size = vocab;
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let model = HybridLm::new(&vs.root(), &arch, 7);
    (vs, model, arch)
}

fn trainable_params(vs: &nn::VarStore) -> u64 {
    vs.trainable_variables()
        .iter()
        .map(|t| t.numel() as u64)
        .sum()
}

#[test]
fn every_layer_kind_builds_and_maps_tokens_to_logits() {
    for short in [
        "d32 A4",
        "d32 A2w8",
        "d32 rope A4",
        "d32 S8",
        "d32 S8e1",
        "d64 m2 S16e1",
        "d32 A4* S8 A4*",
        "d32 P4/8",
        "d32 rope P2w8/8e1 S8",
    ] {
        let (_vs, model, _) = build(short, 11);
        let idx = Tensor::randint(11, [3, 20], (Kind::Int64, tch::Device::Cpu));
        let logits = model.forward(&idx);
        assert_eq!(logits.size(), vec![3, 20, 11], "{short}");
        let finite = logits.isfinite().all().int64_value(&[]) == 1;
        assert!(finite, "{short}: non-finite logits");
    }
}

#[test]
fn parameter_count_equals_the_cost_model() {
    for short in [
        "d64 S16 S16 S16 A4 S16 S16",
        "d128 S16 S16 S16 A4* S16 S16 S16 A4*",
        "d96 m2 rope S8e1 A4w32 S32 A2*",
        "d32 A4* A4* A4*",
        "d64 S16 P4/16 S16 P4w32/8e1",
    ] {
        let (vs, _model, arch) = build(short, 65);
        assert_eq!(
            trainable_params(&vs),
            Cost::of(&arch, 128).params,
            "{short}"
        );
    }
}

#[test]
fn shared_attention_is_one_weight_set() {
    let (shared_vs, _, _) = build("d32 A4* S8 A4* S8 A4*", 10);
    let (separate_vs, _, _) = build("d32 A4 S8 A4 S8 A4", 10);
    assert_eq!(
        trainable_params(&separate_vs) - trainable_params(&shared_vs),
        2 * 4 * 32 * 32
    );
}

#[test]
fn causal_model_does_not_see_the_future() {
    // Changing the last token must not change the logits of earlier positions,
    // for attention (global and windowed), the SSM scan and parallel layers alike.
    let (_vs, model, _) = build("d32 S8 A4 A2w4 S8e1 P4/8", 9);
    let a = Tensor::randint(9, [1, 40], (Kind::Int64, tch::Device::Cpu));
    let b = a.copy();
    let _ = b.narrow(1, 39, 1).fill_((a.int64_value(&[0, 39]) + 1) % 9);
    let _guard = tch::no_grad_guard();
    let (la, lb) = (model.forward(&a), model.forward(&b));
    let diff = (la.narrow(1, 0, 39) - lb.narrow(1, 0, 39))
        .abs()
        .max()
        .double_value(&[]);
    assert!(diff < 1e-5, "earlier positions changed by {diff}");
}

/// Random scan inputs: x (B, T, H, P), a (B, T, H) <= 0, b and c (B, T, N).
fn scan_inputs(t: i64, decay: f64) -> [Tensor; 4] {
    tch::manual_seed(3);
    let opts = (Kind::Float, tch::Device::Cpu);
    let (bs, h, p, n) = (2, 3, 4, 5);
    let x = Tensor::randn([bs, t, h, p], opts);
    let a = -(Tensor::randn([bs, t, h], opts).softplus()) * decay;
    let b = Tensor::randn([bs, t, n], opts);
    let c = Tensor::randn([bs, t, n], opts);
    [x, a, b, c].map(|t| t.set_requires_grad(true))
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn ssd_scan_matches_the_sequential_recurrence_with_gradients() {
    // 64: whole chunks; 45 and 7: a padded tail and a single short chunk.
    // Decays of 0.5 and 8 per step: the model's dt * A spans both.
    for (t, decay) in [(64, 0.5), (45, 0.5), (7, 0.5), (64, 8.0)] {
        let inputs = scan_inputs(t, decay);
        let [x, a, b, c] = &inputs;
        let chunked = ssd_scan(x, a, b, c, 16);
        let reference = sequential_scan(x, a, b, c);
        assert_eq!(chunked.size(), reference.size());
        let out_diff = max_abs_diff(&chunked, &reference);
        assert!(out_diff < 1e-4, "T={t}: outputs differ by {out_diff}");

        let weights = Tensor::randn(chunked.size(), (Kind::Float, tch::Device::Cpu));
        let grads_of = |y: &Tensor| {
            Tensor::run_backward(&[(y * &weights).sum(Kind::Float)], &inputs, false, false)
        };
        for (i, (g1, g2)) in grads_of(&chunked)
            .iter()
            .zip(grads_of(&reference).iter())
            .enumerate()
        {
            let scale = g2.abs().max().double_value(&[]).max(1.0);
            let d = max_abs_diff(g1, g2) / scale;
            assert!(d < 1e-4, "T={t}: gradient of input {i} differs by {d}");
        }
    }
}
