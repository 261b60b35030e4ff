//! Architecture: one concrete hybrid design, its canonical short form, its
//! stable hash, and its file formats (TOML and JSON, both round-trip).
//!
//! Short form, one token per part, separated by spaces:
//! `d128 S16 S16 S16 A4* S16 S16 S16 A4*`
//! - `d128`: d_model (always first); `m2` after it when the MLP ratio is not 4;
//!   `rope` when attention uses rotary position embedding.
//! - `S16`: SSM layer with state dim 16; `S16e1` when expand is not 2.
//! - `A4`: attention layer with 4 heads; `A4w64` for a sliding window of 64;
//!   a trailing `*` marks the one weight set shared by all starred layers.
//! - `P4/16`: parallel layer, 4 attention heads beside an SSM of state 16
//!   (`P4w64/16e1`: window 64, expand 1).
//! - `S16×3` (or `S16x3`): that layer three times, as the figures' labels
//!   write runs (see [`compress_runs`]). [`Architecture::short_form`] itself
//!   always writes every layer, so that the hash stays one per design.

mod repeat;

use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use repeat::compress_runs;

/// The MLP expansion of the reference model (`d -> 4d -> d`).
pub const DEFAULT_MLP_RATIO: usize = 4;
/// The SSM expansion of the reference model (inner width = 2 d).
pub const DEFAULT_SSM_EXPAND: usize = 2;
/// Mamba-2 head width of the reference model.
pub const DEFAULT_SSM_HEAD_DIM: usize = 32;

/// One residual block: this mixer, then the MLP (`x += mixer(norm(x)); x += mlp(norm(x))`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "mixer", rename_all = "snake_case", deny_unknown_fields)]
pub enum Layer {
    /// Causal multi-head attention. `window == 0` is global; otherwise each token
    /// sees itself and the `window - 1` tokens before it. With `shared`, every
    /// shared attention layer of the stack uses one set of projection weights
    /// (Zamba-style); norms and MLPs stay per layer.
    Attention {
        heads: usize,
        #[serde(default)]
        window: usize,
        #[serde(default)]
        shared: bool,
    },
    /// Mamba-2 selective state-space mixer with the chunked SSD scan.
    Ssm {
        state_dim: usize,
        #[serde(default = "default_expand")]
        expand: usize,
    },
    /// Attention and a Mamba-2 mixer side by side on the same input (Hymba's
    /// parallel heads): each branch's output is normalised, and the two are
    /// averaged. Weights are never shared.
    Parallel {
        heads: usize,
        #[serde(default)]
        window: usize,
        state_dim: usize,
        #[serde(default = "default_expand")]
        expand: usize,
    },
}

fn default_expand() -> usize {
    DEFAULT_SSM_EXPAND
}
fn default_mlp_ratio() -> usize {
    DEFAULT_MLP_RATIO
}
fn default_ssm_head_dim() -> usize {
    DEFAULT_SSM_HEAD_DIM
}

impl Layer {
    /// This layer's token of the short form (`A4w64*`, `S16e1`).
    pub fn token(&self) -> String {
        layer_token(self)
    }

    /// Whether the layer attends (attention or parallel): what the
    /// attention ratio and the placement patterns count.
    pub fn is_attention(&self) -> bool {
        self.attention_part().is_some()
    }

    /// `(heads, window)` of the layer's attention, alone or in parallel.
    pub fn attention_part(&self) -> Option<(usize, usize)> {
        match *self {
            Layer::Attention { heads, window, .. } | Layer::Parallel { heads, window, .. } => {
                Some((heads, window))
            }
            Layer::Ssm { .. } => None,
        }
    }

    /// `(state_dim, expand)` of the layer's SSM, alone or in parallel.
    pub fn ssm_part(&self) -> Option<(usize, usize)> {
        match *self {
            Layer::Ssm { state_dim, expand }
            | Layer::Parallel {
                state_dim, expand, ..
            } => Some((state_dim, expand)),
            Layer::Attention { .. } => None,
        }
    }

    /// The pattern letter: `A` attention, `S` SSM, `P` parallel.
    pub fn letter(&self) -> char {
        match self {
            Layer::Attention { .. } => 'A',
            Layer::Ssm { .. } => 'S',
            Layer::Parallel { .. } => 'P',
        }
    }
}

/// One concrete design. `vocab_size == 0` means "take it from the corpus".
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Architecture {
    pub d_model: usize,
    #[serde(default)]
    pub vocab_size: usize,
    #[serde(default = "default_mlp_ratio")]
    pub mlp_ratio: usize,
    #[serde(default = "default_ssm_head_dim")]
    pub ssm_head_dim: usize,
    /// Rotary position embedding in attention layers (off in the reference
    /// model, which has no positional signal besides the SSM layers, as Jamba).
    #[serde(default)]
    pub rope: bool,
    pub layers: Vec<Layer>,
}

/// What is wrong with an architecture or its text.
#[derive(Debug, thiserror::Error)]
pub enum ArchError {
    #[error("invalid architecture: {0}")]
    Invalid(String),
    #[error("cannot parse short form token `{token}`: {reason}")]
    ShortForm { token: String, reason: String },
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
}

impl Architecture {
    /// The peer's letter pattern (`SSSASS`): `A` attention with `heads`, `S` SSM
    /// with `state_dim`, both at the reference defaults otherwise.
    pub fn from_pattern(
        pattern: &str,
        d_model: usize,
        heads: usize,
        state_dim: usize,
    ) -> Result<Self, ArchError> {
        let layers = pattern
            .chars()
            .map(|c| match c.to_ascii_uppercase() {
                'A' => Ok(Layer::Attention {
                    heads,
                    window: 0,
                    shared: false,
                }),
                'S' => Ok(Layer::Ssm {
                    state_dim,
                    expand: DEFAULT_SSM_EXPAND,
                }),
                other => Err(ArchError::ShortForm {
                    token: other.to_string(),
                    reason: "pattern letters are A (attention) and S (SSM)".into(),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let arch = Architecture {
            d_model,
            vocab_size: 0,
            mlp_ratio: DEFAULT_MLP_RATIO,
            ssm_head_dim: DEFAULT_SSM_HEAD_DIM,
            rope: false,
            layers,
        };
        arch.validate()?;
        Ok(arch)
    }

    /// Checks the invariants the model builder relies on.
    pub fn validate(&self) -> Result<(), ArchError> {
        let bad = |m: String| Err(ArchError::Invalid(m));
        if self.d_model == 0 {
            return bad("d_model must be positive".into());
        }
        if self.layers.is_empty() {
            return bad("an architecture needs at least one layer".into());
        }
        if self.mlp_ratio == 0 {
            return bad("mlp_ratio must be positive".into());
        }
        self.within_caps()?;
        for (i, layer) in self.layers.iter().enumerate() {
            if let Some((heads, _)) = layer.attention_part() {
                if heads == 0 || !self.d_model.is_multiple_of(heads) {
                    return bad(format!(
                        "layer {i}: {heads} attention heads do not divide d_model {}",
                        self.d_model
                    ));
                }
                if self.rope && !(self.d_model / heads).is_multiple_of(2) {
                    return bad(format!(
                        "layer {i}: RoPE needs an even head width, d_model {} / {heads} heads is odd",
                        self.d_model
                    ));
                }
            }
            if let Some((state_dim, expand)) = layer.ssm_part() {
                if state_dim == 0 || expand == 0 {
                    return bad(format!("layer {i}: state_dim and expand must be positive"));
                }
                let inner = expand * self.d_model;
                if self.ssm_head_dim == 0 || !inner.is_multiple_of(self.ssm_head_dim) {
                    return bad(format!(
                        "layer {i}: SSM inner width {inner} (expand {expand} x d_model {}) \
                         is not a multiple of ssm_head_dim {}",
                        self.d_model, self.ssm_head_dim
                    ));
                }
            }
        }
        Ok(())
    }

    /// The caps of [`crate::limits`]: a design given directly (`--arch`)
    /// obeys the same bounds as a space file.
    fn within_caps(&self) -> Result<(), ArchError> {
        use crate::limits::*;
        let over = |what: &str, v: usize, max: usize| {
            Err(ArchError::Invalid(format!(
                "{what} {v} is above the cap of {max}"
            )))
        };
        if self.layers.len() > MAX_DEPTH {
            return over("depth", self.layers.len(), MAX_DEPTH);
        }
        if self.d_model > MAX_D_MODEL {
            return over("d_model", self.d_model, MAX_D_MODEL);
        }
        if self.mlp_ratio > MAX_MLP_RATIO {
            return over("mlp_ratio", self.mlp_ratio, MAX_MLP_RATIO);
        }
        for (i, layer) in self.layers.iter().enumerate() {
            let (heads, window) = layer.attention_part().unwrap_or((0, 0));
            let (state_dim, expand) = layer.ssm_part().unwrap_or((0, 0));
            let (what, v, max) = if heads > MAX_HEADS {
                ("attention heads", heads, MAX_HEADS)
            } else if window > MAX_SEQ_LEN {
                ("attention window", window, MAX_SEQ_LEN)
            } else if state_dim > MAX_STATE_DIM {
                ("state_dim", state_dim, MAX_STATE_DIM)
            } else if expand > MAX_SSM_EXPAND {
                ("expand", expand, MAX_SSM_EXPAND)
            } else {
                continue;
            };
            return over(&format!("layer {i}: {what}"), v, max);
        }
        Ok(())
    }

    /// Number of layers.
    pub fn depth(&self) -> usize {
        self.layers.len()
    }

    /// The layers as letters, `A` attention, `S` SSM and `P` parallel
    /// (`SSSASS`): where the attention sits, without the per-layer settings.
    pub fn pattern(&self) -> String {
        self.layers.iter().map(Layer::letter).collect()
    }

    /// Fraction of layers that attend (attention or parallel).
    pub fn attention_ratio(&self) -> f64 {
        let n = self.layers.iter().filter(|l| l.is_attention()).count();
        n as f64 / self.layers.len().max(1) as f64
    }

    /// The canonical short form (see the module docs).
    pub fn short_form(&self) -> String {
        let mut out = format!("d{}", self.d_model);
        if self.mlp_ratio != DEFAULT_MLP_RATIO {
            out.push_str(&format!(" m{}", self.mlp_ratio));
        }
        if self.rope {
            out.push_str(" rope");
        }
        for layer in &self.layers {
            out.push(' ');
            out.push_str(&layer_token(layer));
        }
        out
    }

    /// Parses the short form. `vocab_size` is left 0 (taken from the corpus).
    pub fn parse_short_form(text: &str) -> Result<Self, ArchError> {
        let mut tokens = text.split_whitespace();
        let first = tokens.next().ok_or_else(|| ArchError::ShortForm {
            token: String::new(),
            reason: "empty architecture".into(),
        })?;
        let d_model = first
            .strip_prefix('d')
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| ArchError::ShortForm {
                token: first.into(),
                reason: "expected d_model first, like `d128`".into(),
            })?;
        let mut arch = Architecture {
            d_model,
            vocab_size: 0,
            mlp_ratio: DEFAULT_MLP_RATIO,
            ssm_head_dim: DEFAULT_SSM_HEAD_DIM,
            rope: false,
            layers: Vec::new(),
        };
        for token in tokens {
            if token == "rope" {
                arch.rope = true;
                continue;
            }
            if let Some(m) = token.strip_prefix('m') {
                arch.mlp_ratio = m.parse().map_err(|_| ArchError::ShortForm {
                    token: token.into(),
                    reason: "expected an MLP ratio like `m4`".into(),
                })?;
                continue;
            }
            let (base, count) = repeat::split_repeat(token)?;
            let layer = parse_layer_token(base)?;
            // A repeat count is checked before its copies are made: it is
            // not a way round the depth cap, nor to allocate without bound.
            // Single tokens are bounded by the text; `validate` then reports
            // the whole depth.
            let depth = arch.layers.len().saturating_add(count);
            if count > 1 && depth > crate::limits::MAX_DEPTH {
                return Err(ArchError::Invalid(format!(
                    "depth {depth} is above the cap of {}",
                    crate::limits::MAX_DEPTH
                )));
            }
            arch.layers.extend(std::iter::repeat_n(layer, count));
        }
        arch.validate()?;
        Ok(arch)
    }

    /// Stable content hash: the first 16 hex digits of SHA-256 over the short
    /// form and the vocabulary size. Equal designs hash equal across runs,
    /// machines and versions of this crate (the short form is canonical).
    pub fn hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.short_form().as_bytes());
        h.update(format!(" v{} h{}", self.vocab_size, self.ssm_head_dim).as_bytes());
        let digest = h.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(&ArchFile {
            architecture: self.clone(),
        })
        .expect("an architecture always serialises to TOML")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("an architecture always serialises to JSON")
    }

    pub fn from_toml(text: &str) -> Result<Self, String> {
        let file: ArchFileAny = toml::from_str(text).map_err(|e| e.to_string())?;
        let arch = file.architecture;
        arch.validate().map_err(|e| e.to_string())?;
        Ok(arch)
    }

    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        // Accept a bare architecture or a document with an `architecture` member
        // (the shape `nas export` writes).
        let inner = value.get("architecture").cloned().unwrap_or(value);
        let arch: Architecture = serde_json::from_value(inner).map_err(|e| e.to_string())?;
        arch.validate().map_err(|e| e.to_string())?;
        Ok(arch)
    }

    /// Reads an architecture from a `.toml` or `.json` file (an exported trial
    /// works too: its other tables are ignored), or, when `spec` is not a file,
    /// parses it as a short form such as `"d128 S16 A4 S16"`.
    pub fn load(spec: &str) -> Result<Self, ArchError> {
        let path = Path::new(spec);
        if !path.exists() {
            if spec.trim_start().starts_with('d') && spec.contains(' ') {
                return Self::parse_short_form(spec);
            }
            return Err(ArchError::Io {
                path: spec.into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file (and not a short form like \"d128 S16 A4 S16\")",
                ),
            });
        }
        let text = std::fs::read_to_string(path).map_err(|source| ArchError::Io {
            path: spec.into(),
            source,
        })?;
        let parsed = if path.extension().is_some_and(|e| e == "json") {
            Self::from_json(&text)
        } else {
            Self::from_toml(&text)
        };
        parsed.map_err(|message| ArchError::Parse {
            path: spec.into(),
            message,
        })
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short_form())
    }
}

fn layer_token(layer: &Layer) -> String {
    match *layer {
        Layer::Attention {
            heads,
            window,
            shared,
        } => {
            let mut s = format!("A{heads}");
            if window > 0 {
                s.push_str(&format!("w{window}"));
            }
            if shared {
                s.push('*');
            }
            s
        }
        Layer::Ssm { state_dim, expand } => format!("S{}", ssm_token(state_dim, expand)),
        Layer::Parallel {
            heads,
            window,
            state_dim,
            expand,
        } => {
            let mut s = format!("P{heads}");
            if window > 0 {
                s.push_str(&format!("w{window}"));
            }
            format!("{s}/{}", ssm_token(state_dim, expand))
        }
    }
}

/// `16` or `16e1`: an SSM's state size, and its expand when not the default.
fn ssm_token(state_dim: usize, expand: usize) -> String {
    if expand == DEFAULT_SSM_EXPAND {
        format!("{state_dim}")
    } else {
        format!("{state_dim}e{expand}")
    }
}

fn parse_layer_token(token: &str) -> Result<Layer, ArchError> {
    let err = |reason: &str| ArchError::ShortForm {
        token: token.into(),
        reason: reason.into(),
    };
    let number = |s: &str| s.parse::<usize>().map_err(|_| err("expected a number"));
    // `4` or `4w64`: heads, and a window when there is one.
    let attention = |s: &str| match s.split_once('w') {
        Some((h, w)) => Ok((number(h)?, number(w)?)),
        None => Ok((number(s)?, 0)),
    };
    // `16` or `16e1`: state size, and expand when not the default.
    let ssm = |s: &str| match s.split_once('e') {
        Some((n, e)) => Ok((number(n)?, number(e)?)),
        None => Ok((number(s)?, DEFAULT_SSM_EXPAND)),
    };
    if let Some(rest) = token.strip_prefix('A') {
        let (rest, shared) = match rest.strip_suffix('*') {
            Some(r) => (r, true),
            None => (rest, false),
        };
        let (heads, window) = attention(rest)?;
        Ok(Layer::Attention {
            heads,
            window,
            shared,
        })
    } else if let Some(rest) = token.strip_prefix('S') {
        let (state_dim, expand) = ssm(rest)?;
        Ok(Layer::Ssm { state_dim, expand })
    } else if let Some(rest) = token.strip_prefix('P') {
        let (a, s) = rest.split_once('/').ok_or_else(|| {
            err("a parallel layer is P<heads>/<state>, like `P4/16` or `P4w64/16e1`")
        })?;
        let (heads, window) = attention(a)?;
        let (state_dim, expand) = ssm(s)?;
        Ok(Layer::Parallel {
            heads,
            window,
            state_dim,
            expand,
        })
    } else {
        Err(err(
            "layers start with A (attention), S (SSM) or P (parallel)",
        ))
    }
}

/// The on-disk shape of an architecture file: one `[architecture]` table.
#[derive(Serialize)]
struct ArchFile {
    architecture: Architecture,
}

/// Reading accepts any other tables beside it (metrics, training settings).
#[derive(Deserialize)]
struct ArchFileAny {
    architecture: Architecture,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zamba_like() -> Architecture {
        Architecture::parse_short_form("d128 S16 S16 S16 A4* S16 S16 S16 A4*").unwrap()
    }

    #[test]
    fn short_form_round_trips() {
        for text in [
            "d128 S16 S16 S16 A4* S16 S16 S16 A4*",
            "d64 m2 rope S8e1 A2w32 A4w16* S32",
            "d64 P4/16 S8 P2w32/8e1",
        ] {
            let arch = Architecture::parse_short_form(text).unwrap();
            assert_eq!(arch.short_form(), text);
        }
        let p = Architecture::parse_short_form("d64 S8 P4w32/16e1").unwrap();
        assert_eq!(p.pattern(), "SP");
        assert_eq!(p.attention_ratio(), 0.5);
        assert_eq!(p.layers[1].attention_part(), Some((4, 32)));
        assert_eq!(p.layers[1].ssm_part(), Some((16, 1)));
        for bad in [
            "d64 P4",
            "d64 P3/16",
            "d64 P4/",
            "d48 P4/16e1",
            "d64 P4/16*",
        ] {
            assert!(Architecture::parse_short_form(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn factors_of_a_design() {
        let arch = zamba_like();
        assert_eq!(arch.depth(), 8);
        assert_eq!(arch.pattern(), "SSSASSSA");
        assert_eq!(arch.attention_ratio(), 0.25);
        let same = Architecture::from_pattern(&arch.pattern(), 128, 4, 16).unwrap();
        assert_eq!(same.pattern(), arch.pattern());
    }

    #[test]
    fn compressed_labels_parse_to_the_same_design() {
        for text in [
            "d128 S16 S16 S16 A4* S16 S16 S16 A4*",
            "d32 S8e1 S8e1 A4",
            "d64 m2 rope S8e1 A2w32 A2w32 A4w16* A4w16* A4w16* S32",
            "d64 A4 A4 A4 A4 A4 A4 A4 A4",
            "d96 S16 A4 S16 A4",
        ] {
            let label = compress_runs(text);
            let back = Architecture::parse_short_form(&label).unwrap();
            assert_eq!(
                back,
                Architecture::parse_short_form(text).unwrap(),
                "{label}"
            );
            assert_eq!(back.short_form(), text);
        }
        // As typed on a keyboard, and as printed in a figure.
        let typed = Architecture::parse_short_form("d32 S8e1x2 A4").unwrap();
        let printed = Architecture::parse_short_form("d32 S8e1×2 A4").unwrap();
        assert_eq!(typed, printed);
        assert_eq!(typed.short_form(), "d32 S8e1 S8e1 A4");
        // `--arch` goes through `load`, which sees a short form too.
        assert_eq!(Architecture::load("d32 S8e1×2 A4").unwrap(), printed);
    }

    #[test]
    fn bad_repeat_counts_are_rejected() {
        for (text, reason) in [
            ("d32 S8×0", "at least 1"),
            ("d32 S8×", "expected a repeat count"),
            ("d32 S8x", "expected a repeat count"),
            ("d32 ×2", "follows a layer token"),
            ("d32 S8×2.5", "whole number"),
        ] {
            let err = Architecture::parse_short_form(text).unwrap_err();
            assert!(matches!(err, ArchError::ShortForm { .. }), "{text}: {err}");
            assert!(err.to_string().contains(reason), "{text}: {err}");
        }
        let deep = Architecture::parse_short_form("d64 S16×100000000000")
            .unwrap_err()
            .to_string();
        assert!(
            deep.contains("depth 100000000000 is above the cap of 256"),
            "{deep}"
        );
    }

    #[test]
    fn toml_and_json_round_trip() {
        let mut arch = zamba_like();
        arch.vocab_size = 65;
        assert_eq!(Architecture::from_toml(&arch.to_toml()).unwrap(), arch);
        assert_eq!(Architecture::from_json(&arch.to_json()).unwrap(), arch);
    }

    #[test]
    fn hash_is_stable_and_content_based() {
        let a = zamba_like();
        let b = zamba_like();
        assert_eq!(a.hash(), b.hash());
        assert_eq!(a.hash().len(), 16);
        let c = Architecture::parse_short_form("d128 S16 S16 S16 A4 S16 S16 S16 A4*").unwrap();
        assert_ne!(a.hash(), c.hash());
    }

    #[test]
    fn invalid_designs_are_rejected() {
        assert!(Architecture::parse_short_form("d100 A3").is_err());
        assert!(Architecture::parse_short_form("d128").is_err());
        assert!(Architecture::parse_short_form("d48 S16e1").is_err());
        assert!(Architecture::parse_short_form("d128 X4").is_err());
        assert!(Architecture::from_pattern("SAQ", 128, 4, 16).is_err());
    }

    #[test]
    fn designs_over_the_caps_are_rejected() {
        let deep = format!("d64{}", " S16".repeat(crate::limits::MAX_DEPTH + 1));
        let cases = [
            ("d16384 S16", "d_model 16384 is above the cap of 8192"),
            (deep.as_str(), "depth 257 is above the cap of 256"),
            ("d64 m32 S16", "mlp_ratio 32 is above the cap of 16"),
            (
                "d512 S16 A512",
                "layer 1: attention heads 512 is above the cap of 256",
            ),
            (
                "d64 A4w100000",
                "layer 0: attention window 100000 is above the cap of 65536",
            ),
            (
                "d64 S2048",
                "layer 0: state_dim 2048 is above the cap of 1024",
            ),
            ("d64 S16e16", "layer 0: expand 16 is above the cap of 8"),
        ];
        for (text, message) in cases {
            let err = Architecture::parse_short_form(text)
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{text}: {err}");
        }
        let at_caps = format!("d8192 m16{}", " S1024e8 A256w65536".repeat(128));
        assert!(Architecture::parse_short_form(&at_caps).is_ok());
    }
}
