//! Stepping token by token gives the full forward's logits at every position,
//! for every layer kind; and the bytes a state reports are those it holds.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Tensor};

use crate::arch::Architecture;
use crate::cost::Cost;
use crate::model::ssm::SSD_CHUNK;
use crate::model::HybridLm;

const VOCAB: usize = 13;
const BATCH: i64 = 2;
/// Not a multiple of the SSD chunk, so the forward's scan pads its tail; and
/// longer than every window below, so the rings wrap.
const T: i64 = 45;
const _: () = assert!(T % SSD_CHUNK != 0);

/// A model of `short` whose every parameter is moved off its init by noise:
/// the init sets norm gains to 1, biases and `dt_bias` to 0 and `skip` to 1,
/// values under which some wrong step arithmetic (a missing bias, a skip
/// taken from the wrong head) would still agree with the forward.
fn perturbed(short: &str) -> (nn::VarStore, HybridLm) {
    let mut arch = Architecture::parse_short_form(short).unwrap();
    arch.vocab_size = VOCAB;
    let vs = nn::VarStore::new(Device::Cpu);
    let model = HybridLm::new(&vs.root(), &arch, 3);
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let _guard = tch::no_grad_guard();
    for mut var in vs.trainable_variables() {
        let noise: Vec<f32> = (0..var.numel())
            .map(|_| rng.random_range(-0.3..0.3))
            .collect();
        let noise = Tensor::from_slice(&noise).view(var.size().as_slice());
        let _ = var.f_add_(&noise).unwrap();
    }
    (vs, model)
}

fn tokens(seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let ids: Vec<i64> = (0..BATCH * T)
        .map(|_| rng.random_range(0..VOCAB as i64))
        .collect();
    Tensor::from_slice(&ids).view([BATCH, T])
}

/// `(B, T, V)` logits of feeding `idx` one position at a time.
fn stepped(model: &HybridLm, idx: &Tensor) -> Tensor {
    let mut state = model.decode_state(BATCH as usize);
    let logits: Vec<Tensor> = idx
        .unbind(1)
        .iter()
        .map(|column| model.step(column, &mut state))
        .collect();
    assert_eq!(state.position(), T as usize);
    Tensor::stack(&logits, 1)
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn assert_step_matches_forward(short: &str) {
    let (_vs, model) = perturbed(short);
    let idx = tokens(5);
    let full = tch::no_grad(|| model.forward(&idx));
    let step = stepped(&model, &idx);
    assert_eq!(step.size(), [BATCH, T, VOCAB as i64], "{short}");
    let diff = max_abs_diff(&full, &step);
    assert!(diff < 1e-4, "{short}: stepped logits differ by {diff}");
    // Not vacuous: the logits do change with the position and the sequence.
    let spread = max_abs_diff(&full.select(1, 0), &full.select(1, T - 1));
    assert!(spread > 1e-2, "{short}: logits barely move ({spread})");
    let rows = max_abs_diff(&full.select(0, 0), &full.select(0, 1));
    assert!(
        rows > 1e-2,
        "{short}: the two sequences give the same logits"
    );
}

#[test]
fn global_attention_steps_as_it_forwards() {
    assert_step_matches_forward("d32 A4");
    assert_step_matches_forward("d32 A2 A4");
}

#[test]
fn windowed_attention_steps_as_it_forwards() {
    assert_step_matches_forward("d32 A4w8");
    // A window of one: each token sees only itself.
    assert_step_matches_forward("d32 A2w1 A4w16");
}

#[test]
fn rotary_attention_steps_as_it_forwards() {
    assert_step_matches_forward("d32 rope A4");
    assert_step_matches_forward("d32 rope A4w8");
}

#[test]
fn shared_attention_keeps_a_cache_per_use() {
    assert_step_matches_forward("d32 A4* A4*");
    assert_step_matches_forward("d32 rope A4* A2w8*");
}

#[test]
fn ssm_steps_as_it_forwards() {
    // Expand 1 at d64 gives two heads of 32, expand 2 four.
    assert_step_matches_forward("d64 S8e1");
    assert_step_matches_forward("d64 S8");
    assert_step_matches_forward("d32 S16 S4e1");
}

#[test]
fn parallel_layers_step_as_they_forward() {
    assert_step_matches_forward("d64 P4/8e1");
    assert_step_matches_forward("d64 rope S8 P2w8/16 P4/8e1");
}

#[test]
fn a_mixed_hybrid_steps_as_it_forwards() {
    assert_step_matches_forward("d64 S8 A4 S8e1 A4w8 A4* S8 A4*");
    assert_step_matches_forward("d64 rope S8 A4w8 A4* S16e1 A4*");
}

/// The bytes a state reports are the cost model's cache and state values,
/// at the model's f32 instead of bf16, times the batch; a windowed cache
/// stops growing at its window, a global one grows with every token.
#[test]
fn state_bytes_are_the_cost_models() {
    let short = "d64 S8 A4 S8e1 A4w8 A4* P4/8";
    let (_vs, model) = perturbed(short);
    let mut arch = Architecture::parse_short_form(short).unwrap();
    arch.vocab_size = VOCAB;
    let f32_per_bf16 = 2;
    let idx = tokens(9);
    let mut state = model.decode_state(BATCH as usize);
    let empty = state.bytes();
    assert_eq!(empty.kv_cache, 0);
    let columns = idx.unbind(1);
    for (t, column) in columns.iter().enumerate() {
        let _ = model.step(column, &mut state);
        let bytes = state.bytes();
        let cost = Cost::of(&arch, t + 1);
        let batch = BATCH as u64;
        assert_eq!(bytes.kv_cache, cost.kv_cache_bytes * f32_per_bf16 * batch);
        assert_eq!(
            bytes.conv_window + bytes.ssm_state,
            cost.ssm_state_bytes * f32_per_bf16 * batch
        );
        // Recurrent state does not grow with the context.
        assert_eq!(bytes.ssm_state, empty.ssm_state);
        assert_eq!(bytes.conv_window, empty.conv_window);
    }
    let d = 64u64;
    let entry = 2 * d * 4 * BATCH as u64; // a key and a value, f32, per row
    assert_eq!(
        state.bytes().kv_cache,
        entry * (T as u64 + 8 + T as u64 + T as u64),
        "three global caches of T entries (one a parallel layer's) and one ring of 8"
    );
    assert!(matches!(
        state.layers()[3],
        super::LayerState::Attention(ref c) if c.len() == 8
    ));
}
