"""The hybrid-nas proxy model in plain PyTorch: a way out of Rust.

Written from the definitions in src/model/ (not translated from any other
implementation): token embedding, pre-norm residual blocks
`x += mixer(norm(x)); x += mlp(norm(x))`, final LayerNorm, linear head.
Mixers: causal multi-head attention (fused QKV, optional sliding window,
optional rotary positions, optionally one weight set shared by every starred
layer), the Mamba-2 mixer with a chunked SSD scan whose B and C are shared
by all heads, and the parallel mixer (both side by side, outputs normalised
and averaged).

  python3 scripts/reference_model.py eval runs/train/<hash>-s0
      loads model.safetensors and arch.toml from a `nas train` folder, scores
      the validation windows `nas train` scored (metrics.json names them) and
      prints both losses; exits 1 when they differ by more than --tol.
  python3 scripts/reference_model.py speed runs/train/<hash>-s0/arch.toml --batch 16
      times training steps (forward, backward, AdamW) of the design on random
      tokens: the PyTorch eager side of `nas bench` (an exported design's TOML
      file works too).

Needs torch, numpy and safetensors (`python3 -m pip install torch==2.13.0
safetensors`); .ci/run installs them into a cache and runs
scripts/check_reference.sh.
"""

import argparse
import json
import math
import sys
import time
import tomllib
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file

SSD_CHUNK = 32  # src/model/ssm.rs
CONV_WIDTH = 4  # src/cost.rs SSM_CONV_WIDTH
LN_EPS = 1e-5


class AttentionWeights(nn.Module):
    """qkv (3d, d) and out (d, d), no biases. Shared layers hold one instance."""

    def __init__(self, d):
        super().__init__()
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)


def rotate(x, positions):
    """Rotary positions on (B, H, T, hd): pairs (first half, second half) of
    the head dimension turned by position * 10000^(-2i/hd)."""
    hd = x.shape[-1]
    half = hd // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * (-2.0 * math.log(10000.0) / hd))
    angle = positions.float()[:, None] * freq[None, :]  # (T, hd/2)
    cos, sin = angle.cos(), angle.sin()
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


class Attention(nn.Module):
    def __init__(self, weights, heads, window, rope):
        super().__init__()
        self.weights = weights
        self.heads, self.window, self.rope = heads, window, rope

    def forward(self, x):  # (B, T, d) -> (B, T, d)
        b, t, d = x.shape
        hd = d // self.heads
        q, k, v = self.weights.qkv(x).view(b, t, 3, self.heads, hd).unbind(2)
        q, k, v = (z.transpose(1, 2) for z in (q, k, v))  # (B, H, T, hd)
        if self.rope:
            pos = torch.arange(t)
            q, k = rotate(q, pos), rotate(k, pos)
        if 0 < self.window < t:
            lag = torch.arange(t)[:, None] - torch.arange(t)[None, :]  # query - key
            mask = (lag >= 0) & (lag < self.window)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.weights.out(y.transpose(1, 2).reshape(b, t, d))


def ssd_scan(x, a, b, c, chunk=SSD_CHUNK):
    """h_t = exp(a_t) h_{t-1} + x_t b_t^T, y_t = h_t c_t, per head (h: P x N).

    x (B, T, H, P) already scaled by dt; a (B, T, H) log decays; b, c (B, T, N).
    Within a chunk a masked matrix product; across chunks a loop carrying the
    state. The tail is padded with x = 0, a = 0, which leaves real steps alone.
    """
    bs, t, h, p = x.shape
    n = b.shape[-1]
    pad = (-t) % chunk
    if pad:
        x = F.pad(x, (0, 0, 0, 0, 0, pad))
        a, b, c = F.pad(a, (0, 0, 0, pad)), F.pad(b, (0, 0, 0, pad)), F.pad(c, (0, 0, 0, pad))
    nc = x.shape[1] // chunk
    x = x.view(bs, nc, chunk, h, p).permute(0, 1, 3, 2, 4)  # (B, C, H, L, P)
    a = a.view(bs, nc, chunk, h).permute(0, 1, 3, 2)  # (B, C, H, L)
    b = b.view(bs, nc, chunk, n)  # (B, C, L, N)
    c = c.view(bs, nc, chunk, n)
    cum = a.cumsum(-1)  # (B, C, H, L)
    later = torch.ones(chunk, chunk, dtype=torch.bool).triu(1)
    decay = (cum[..., :, None] - cum[..., None, :]).masked_fill(later, -math.inf).exp()
    scores = (c @ b.transpose(-1, -2))[:, :, None]  # (B, C, 1, L, L)
    y = (decay * scores) @ x  # (B, C, H, L, P)
    state = x.new_zeros(bs, h, p, n)
    outs = []
    for i in range(nc):
        ci, cumi = c[:, i], cum[:, i]  # (B, L, N), (B, H, L)
        # What the state entering the chunk adds: exp(cum_l) h c_l.
        entering = (ci[:, None] @ state.transpose(-1, -2)) * cumi.exp()[..., None]  # (B, H, L, P)
        outs.append(y[:, i] + entering)
        to_end = (cumi[..., -1:] - cumi).exp()  # (B, H, L)
        added = (x[:, i] * to_end[..., None]).transpose(-1, -2) @ b[:, i][:, None]  # (B, H, P, N)
        state = state * cumi[..., -1].exp()[..., None, None] + added
    y = torch.stack(outs, 1)  # (B, C, H, L, P)
    return y.permute(0, 1, 3, 2, 4).reshape(bs, nc * chunk, h, p)[:, :t]


class Ssm(nn.Module):
    """The Mamba-2 mixer: in-projection to z, x, B, C, dt; causal depthwise conv
    with SiLU over (x, B, C); softplus dt; SSD scan; LayerNorm gated by SiLU(z)."""

    def __init__(self, d, state, expand, head_dim):
        super().__init__()
        self.inner, self.state = expand * d, state
        self.heads, self.head_dim = self.inner // head_dim, head_dim
        channels = self.inner + 2 * state
        self.in_proj = nn.Linear(d, 2 * self.inner + 2 * state + self.heads, bias=False)
        self.conv = nn.Conv1d(channels, channels, CONV_WIDTH, groups=channels)
        self.dt_bias = nn.Parameter(torch.zeros(self.heads))
        self.a_log = nn.Parameter(torch.zeros(self.heads))
        self.skip = nn.Parameter(torch.ones(self.heads))
        self.norm = nn.LayerNorm(self.inner, eps=LN_EPS)
        self.out_proj = nn.Linear(self.inner, d, bias=False)

    def forward(self, x):  # (B, T, d) -> (B, T, d)
        b, t, _ = x.shape
        e, n, h = self.inner, self.state, self.heads
        z, xbc, dt = self.in_proj(x).split([e, e + 2 * n, h], dim=-1)
        xbc = F.silu(self.conv(F.pad(xbc.transpose(1, 2), (CONV_WIDTH - 1, 0))).transpose(1, 2))
        u, bm, cm = xbc.split([e, n, n], dim=-1)
        u = u.reshape(b, t, h, self.head_dim)
        dt = F.softplus(dt + self.dt_bias)  # (B, T, H)
        a = -self.a_log.exp()
        y = ssd_scan(u * dt[..., None], dt * a, bm, cm) + u * self.skip[:, None]
        return self.out_proj(self.norm(y.reshape(b, t, e)) * F.silu(z))


class Parallel(nn.Module):
    """Attention and an SSM side by side on the same input, each output
    LayerNormed, then averaged."""

    def __init__(self, attention, ssm, d):
        super().__init__()
        self.attention, self.ssm = attention, ssm
        self.attention_norm = nn.LayerNorm(d, eps=LN_EPS)
        self.ssm_norm = nn.LayerNorm(d, eps=LN_EPS)

    def forward(self, x):
        return (self.attention_norm(self.attention(x)) + self.ssm_norm(self.ssm(x))) * 0.5


class Block(nn.Module):
    def __init__(self, d, mixer, mlp_ratio):
        super().__init__()
        self.norm1 = nn.LayerNorm(d, eps=LN_EPS)
        self.mixer = mixer
        self.norm2 = nn.LayerNorm(d, eps=LN_EPS)
        self.up = nn.Linear(d, mlp_ratio * d)
        self.down = nn.Linear(mlp_ratio * d, d)

    def forward(self, x):
        x = x + self.mixer(self.norm1(x))
        return x + self.down(F.gelu(self.up(self.norm2(x))))


class HybridLm(nn.Module):
    def __init__(self, arch):
        super().__init__()
        d, v = arch["d_model"], arch["vocab_size"]
        self.embed = nn.Embedding(v, d)
        shared = None
        blocks = []
        for layer in arch["layers"]:
            rope, head_dim = arch.get("rope", False), arch.get("ssm_head_dim", 32)
            if layer["mixer"] == "attention":
                if layer.get("shared", False):
                    shared = shared or AttentionWeights(d)
                    weights = shared
                else:
                    weights = AttentionWeights(d)
                mixer = Attention(weights, layer["heads"], layer.get("window", 0), rope)
            elif layer["mixer"] == "ssm":
                mixer = Ssm(d, layer["state_dim"], layer.get("expand", 2), head_dim)
            else:
                mixer = Parallel(
                    Attention(AttentionWeights(d), layer["heads"], layer.get("window", 0), rope),
                    Ssm(d, layer["state_dim"], layer.get("expand", 2), head_dim),
                    d,
                )
            blocks.append(Block(d, mixer, arch.get("mlp_ratio", 4)))
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(d, eps=LN_EPS)
        self.head = nn.Linear(d, v, bias=False)

    def forward(self, idx):  # (B, T) int64 -> (B, T, V)
        x = self.embed(idx)
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x))


def checkpoint_names(arch):
    """Our parameter -> its name in the `nas train` checkpoint. Shared attention
    weights live under the first shared layer (`block{i}.shared_attn`)."""
    names = {"embed.weight": "embed", "norm.weight": "norm.weight", "norm.bias": "norm.bias", "head.weight": "head.weight"}
    first_shared = None
    for i, layer in enumerate(arch["layers"]):
        ours, theirs = f"blocks.{i}", f"block{i}"
        for part in ("norm1", "norm2"):
            for p in ("weight", "bias"):
                names[f"{ours}.{part}.{p}"] = f"{theirs}.{part}.{p}"
        for ours_mlp, theirs_mlp in (("up", "mlp.up"), ("down", "mlp.down")):
            for p in ("weight", "bias"):
                names[f"{ours}.{ours_mlp}.{p}"] = f"{theirs}.{theirs_mlp}.{p}"
        mixer = f"{ours}.mixer"
        if layer["mixer"] == "attention":
            if layer.get("shared", False):
                first_shared = theirs if first_shared is None else first_shared
                names.update(attention_names(mixer, f"{first_shared}.shared_attn"))
            else:
                names.update(attention_names(mixer, f"{theirs}.attn"))
        elif layer["mixer"] == "ssm":
            names.update(ssm_names(mixer, f"{theirs}.ssm"))
        else:
            names.update(attention_names(f"{mixer}.attention", f"{theirs}.attn"))
            names.update(ssm_names(f"{mixer}.ssm", f"{theirs}.ssm"))
            for ours_norm, theirs_norm in (("attention_norm", "attn_out_norm"), ("ssm_norm", "ssm_out_norm")):
                for p in ("weight", "bias"):
                    names[f"{mixer}.{ours_norm}.{p}"] = f"{theirs}.{theirs_norm}.{p}"
    return names


def attention_names(ours, theirs):
    return {f"{ours}.weights.{lin}.weight": f"{theirs}.{lin}.weight" for lin in ("qkv", "out")}


def ssm_names(ours, theirs):
    names = {
        f"{ours}.{p}": f"{theirs}.{p}"
        for p in ("in_proj.weight", "out_proj.weight", "norm.weight", "norm.bias", "dt_bias", "a_log", "skip")
    }
    names[f"{ours}.conv.weight"] = f"{theirs}.conv_weight"
    names[f"{ours}.conv.bias"] = f"{theirs}.conv_bias"
    return names


def load(folder):
    """The model of a `nas train` folder, every checkpoint tensor used once."""
    folder = Path(folder)
    arch = read_arch(folder)
    model = HybridLm(arch)
    tensors = load_file(folder / "model.safetensors")
    names = checkpoint_names(arch)
    params = dict(model.named_parameters(remove_duplicate=False))
    if set(params) != set(names):
        raise SystemExit(f"internal: parameters {sorted(set(params) ^ set(names))} unmapped")
    if set(names.values()) != set(tensors):
        raise SystemExit(
            f"{folder}: the checkpoint does not match arch.toml "
            f"(missing {sorted(set(names.values()) - set(tensors))}, "
            f"unexpected {sorted(set(tensors) - set(names.values()))})"
        )
    with torch.no_grad():
        for ours, theirs in names.items():
            if params[ours].shape != tensors[theirs].shape:
                raise SystemExit(f"{theirs}: shape {tuple(tensors[theirs].shape)}, expected {tuple(params[ours].shape)}")
            params[ours].copy_(tensors[theirs])
    return model


def validation_batches(folder):
    """The windows `nas train` scored: (x, y) pairs of (B, T) int64."""
    folder = Path(folder)
    metrics = json.loads((folder / "metrics.json").read_text())
    if metrics.get("validation") is None:
        raise SystemExit(f"{folder}/metrics.json names no validation windows (a text model of nas >= 0.2 has them)")
    tokens = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))["tokens"]
    index = {ch: i for i, ch in enumerate(tokens)}
    # newline="" keeps "\r\n" as two characters, as nas reads them.
    with open(metrics["corpus"], encoding="utf-8", newline="") as f:
        text = f.read()
    v = metrics["validation"]
    valid = torch.tensor([index[ch] for ch in text[v["split_at"]:]], dtype=torch.int64)
    t = v["seq_len"]
    offsets = torch.arange(t + 1)
    for starts in v["batches"]:
        window = valid[torch.tensor(starts)[:, None] + offsets[None, :]]  # (B, T+1)
        yield window[:, :-1], window[:, 1:]
    return metrics["report"]["val_loss"]


def evaluate(args):
    model = load(args.folder).eval()
    batches = validation_batches(args.folder)
    losses = []
    with torch.no_grad():
        while True:
            try:
                x, y = next(batches)
            except StopIteration as done:
                nas_loss = done.value
                break
            logits = model(x)
            losses.append(F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)).item())
    ours = sum(losses) / len(losses)
    diff = abs(ours - nas_loss)
    print(json.dumps({"folder": str(args.folder), "batches": len(losses), "nas_val_loss": nas_loss, "reference_val_loss": ours, "abs_diff": diff}))
    return 0 if diff <= args.tol else 1


def read_arch(path):
    """The [architecture] table of a TOML file (`arch.toml`, or what
    `nas export` writes), or of a `nas train` folder's arch.toml."""
    path = Path(path)
    with open(path / "arch.toml" if path.is_dir() else path, "rb") as f:
        return tomllib.load(f)["architecture"]


def speed(args):
    # Timing needs the shape only: PyTorch's default initial values serve.
    arch = read_arch(args.design)
    if not arch.get("vocab_size"):
        arch["vocab_size"] = args.vocab
    model = HybridLm(arch).train()
    vocab = arch["vocab_size"]
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    times = []
    for step in range(args.warmup + args.steps):
        x = torch.randint(vocab, (args.batch, args.seq_len + 1), generator=gen)
        t0 = time.perf_counter()
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step >= args.warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"impl": "pytorch-reference", "threads": torch.get_num_threads(), "batch": args.batch, "seq_len": args.seq_len, "step_ms_median": median * 1e3, "tokens_per_s": args.batch * args.seq_len / median}))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("eval", help="reproduce a nas train folder's validation loss")
    e.add_argument("folder", type=Path)
    e.add_argument("--tol", type=float, default=1e-4)
    s = sub.add_parser("speed", help="time training steps of a design (a nas train folder or an arch TOML file)")
    s.add_argument("design", type=Path)
    s.add_argument("--vocab", type=int, default=65, help="when the design leaves the vocabulary to the corpus")
    s.add_argument("--batch", type=int, default=16)
    s.add_argument("--seq-len", type=int, default=128)
    s.add_argument("--steps", type=int, default=20)
    s.add_argument("--warmup", type=int, default=3)
    s.add_argument("--threads", type=int)
    args = parser.parse_args()
    if getattr(args, "threads", None):
        torch.set_num_threads(args.threads)
    sys.exit(evaluate(args) if args.command == "eval" else speed(args))


if __name__ == "__main__":
    main()
