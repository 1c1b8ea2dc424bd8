# Regenerates the checkpoints in this folder the way people actually have them (run by hand; tests never need Python):
#   cd tests/OpenVision.Tests/Fixtures/checkpoints/openclip && /usr/bin/python3 make_training_checkpoints.py
# (Debian python3-torch 1.13.) One tiny open_clip-layout model, saved four ways:
#   plain.pt          torch.save(model.state_dict()): the form a released checkpoint has
#   epoch_1.pt        open_clip's own training checkpoint: {"epoch", "name", "state_dict": {"module.…"},
#                     "optimizer": AdamW state after one step, "scaler": GradScaler state}
#   compiled_ddp.pt   torch.compile around DDP: every key "_orig_mod.module.…" (torch 1.13 has no torch.compile, so the
#                     names are written as torch 2.x's wrapper produces them)
#   ddp_compiled.pt   DDP around torch.compile, under {"model": …}: every key "module._orig_mod.…"
# The architecture is open_clip_config.json, written here too, so that names and shapes have one source.
import collections
import json
import math
import torch

torch.manual_seed(12)

VISION = dict(image_size=8, patch_size=4, width=8, layers=1, head_width=4)
TEXT = dict(context_length=6, vocab_size=16, width=8, heads=2, layers=1)
EMBED = 4
config = {
    "model_cfg": {
        "embed_dim": EMBED,
        "vision_cfg": {**VISION, "no_ln_pre": True, "pool_type": "avg", "final_ln_after_pool": True, "norm_kwargs": {"eps": 1e-06}},
        "text_cfg": {**TEXT, "hf_tokenizer_name": "bert-base-uncased", "tokenizer_kwargs": {"strip_sep_token": True},
                     "pool_type": "last", "no_causal_mask": True, "act_kwargs": {"approximate": "tanh"}, "norm_kwargs": {"eps": 1e-06}},
    },
    "preprocess_cfg": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "interpolation": "bilinear", "resize_mode": "squash"},
}
with open("open_clip_config.json", "w") as f:
    json.dump(config, f, indent=2)
    f.write("\n")


def block(prefix, width):
    # open_clip's ResidualAttentionBlock (nn.MultiheadAttention, MLP ratio 4).
    return [
        (f"{prefix}.ln_1.weight", [width], "one"), (f"{prefix}.ln_1.bias", [width], "zero"),
        (f"{prefix}.attn.in_proj_weight", [3 * width, width], "w"), (f"{prefix}.attn.in_proj_bias", [3 * width], "w"),
        (f"{prefix}.attn.out_proj.weight", [width, width], "w"), (f"{prefix}.attn.out_proj.bias", [width], "w"),
        (f"{prefix}.ln_2.weight", [width], "one"), (f"{prefix}.ln_2.bias", [width], "zero"),
        (f"{prefix}.mlp.c_fc.weight", [4 * width, width], "w"), (f"{prefix}.mlp.c_fc.bias", [4 * width], "w"),
        (f"{prefix}.mlp.c_proj.weight", [width, 4 * width], "w"), (f"{prefix}.mlp.c_proj.bias", [width], "w"),
    ]


vw, tw, grid = VISION["width"], TEXT["width"], VISION["image_size"] // VISION["patch_size"]
layout = [
    ("visual.class_embedding", [vw], "w"),
    ("visual.positional_embedding", [grid * grid + 1, vw], "w"),
    ("visual.conv1.weight", [vw, 3, VISION["patch_size"], VISION["patch_size"]], "w"),
    *[e for i in range(VISION["layers"]) for e in block(f"visual.transformer.resblocks.{i}", vw)],
    ("visual.ln_post.weight", [vw], "one"), ("visual.ln_post.bias", [vw], "zero"),
    ("visual.proj", [vw, EMBED], "w"),
    ("token_embedding.weight", [TEXT["vocab_size"], tw], "w"),
    ("positional_embedding", [TEXT["context_length"], tw], "w"),
    *[e for i in range(TEXT["layers"]) for e in block(f"transformer.resblocks.{i}", tw)],
    ("ln_final.weight", [tw], "one"), ("ln_final.bias", [tw], "zero"),
    ("text_projection", [tw, EMBED], "w"),
    ("logit_scale", [], "scale"),
]


def init(shape, kind):
    if kind == "one":
        return 1 + 0.1 * torch.randn(shape)
    if kind == "zero":
        return 0.1 * torch.randn(shape)
    if kind == "scale":
        return torch.tensor(math.log(1 / 0.07))
    return 0.3 * torch.randn(shape)


params = collections.OrderedDict((name, torch.nn.Parameter(init(shape, kind))) for name, shape, kind in layout)

# One AdamW step on made-up gradients, so the optimizer state holds tensors, ints, floats, tuples, bools and None.
opt = torch.optim.AdamW(params.values(), lr=1e-2, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.2)
for p in params.values():
    p.grad = torch.randn_like(p)
opt.step()
scaler = torch.cuda.amp.GradScaler(enabled=False).state_dict() or {"scale": 65536.0, "growth_factor": 2.0,
                                                                   "backoff_factor": 0.5, "growth_interval": 2000, "_growth_tracker": 0}

state = collections.OrderedDict((name, p.detach().clone()) for name, p in params.items())
torch.save(state, "plain.pt")
torch.save({"epoch": 1, "name": "tiny-openclip", "state_dict": collections.OrderedDict((f"module.{k}", v) for k, v in state.items()),
            "optimizer": opt.state_dict(), "scaler": scaler}, "epoch_1.pt")
torch.save(collections.OrderedDict((f"_orig_mod.module.{k}", v) for k, v in state.items()), "compiled_ddp.pt")
torch.save({"model": collections.OrderedDict((f"module._orig_mod.{k}", v) for k, v in state.items()), "epoch": 1}, "ddp_compiled.pt")
