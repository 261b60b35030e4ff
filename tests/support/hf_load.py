"""Loads each folder given with transformers' AutoConfig and prints one JSON
line per folder: what tests/hf_export.rs compares with the design exported.

Attention positions are read the family's own way (Nemotron-H: the
`full_attention` entries of its per-sublayer list; Bamba: `attn_layer_indices`;
Zamba2: its `hybrid` layers; Falcon-H1: every layer), so the test checks what transformers builds,
not the JSON text we wrote.
"""

import json
import sys

from transformers import AutoConfig


def attention_positions(config):
    if config.model_type == "nemotron_h":
        return [i for i, t in enumerate(config.layers_block_type) if t == "full_attention"]
    if config.model_type == "bamba":
        return list(config.attn_layer_indices or [])
    if config.model_type == "zamba2":
        return list(config.hybrid_layer_ids)
    if config.model_type == "falcon_h1":
        # Every Falcon-H1 layer has attention (beside its Mamba-2 mixer).
        return list(range(config.num_hidden_layers))
    raise SystemExit(f"unexpected model_type {config.model_type}")


for folder in sys.argv[1:]:
    config = AutoConfig.from_pretrained(folder)
    print(
        json.dumps(
            {
                "folder": folder,
                "class": type(config).__name__,
                "layers": config.num_hidden_layers,
                "hidden_size": config.hidden_size,
                "heads": config.num_attention_heads,
                "vocab_size": config.vocab_size,
                "attention": attention_positions(config),
            }
        )
    )
