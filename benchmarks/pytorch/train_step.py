#!/usr/bin/env python3
"""One OpenVision (CLIPS) training step in eager PyTorch, as a reference for `openvision bench train-step`.

Not part of OpenVision.NET: nothing in src/ runs or needs it. It is a yardstick for the lead's measurements.

    openvision bench train-step --model openvision-fashion-tiny --export-weights /tmp/step
    /usr/bin/python3 benchmarks/pytorch/train_step.py /tmp/step

The folder holds what the C# run used: the open_clip config, the initial weights (open_clip keys plus the caption
decoder under text_decoder.), the batch and train_step.json (decoder, loss weights, AdamW, sizes, threads and the
TorchSharp figures). This script builds the same architecture in plain PyTorch (1.13, Debian's python3-torch; numpy
only besides), loads those weights strictly, runs the same batch with the same thread count, and prints

  * the first-step losses next to TorchSharp's, with their relative difference (exit status 1 when it exceeds
    --tolerance): both ran the same computation, or the timings mean nothing;
  * median ms/step, samples/s and the forward / backward / optimizer split, and the peak resident memory.

The CLIP model (both towers, open_clip parameter names, torch.nn.MultiheadAttention) is openvision_torch.py's, shared
with export_onnx.py; this script adds what training needs, following src/OpenVision.Training (CaptionDecoder,
ContrastiveLoss, CaptionLoss, ParamGroups, AdamWConfig).
"""
import argparse
import ctypes
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from openvision_torch import Clip, ResidualAttentionBlock, model_cfg, read_safetensors, run_script

FORMAT = "openvision-train-step/1"

def prefix_lm_mask(prefix, queries):
    """Additive [P+Q, P+Q] mask: causal everywhere, the prefix block opened up (CaptionDecoder.AttentionMask)."""
    length = prefix + queries
    allowed = torch.ones(length, length, dtype=torch.bool).tril()
    is_prefix = torch.arange(length) < prefix
    allowed = allowed | (is_prefix.unsqueeze(1) & is_prefix.unsqueeze(0))
    return torch.zeros(length, length).masked_fill(~allowed, float("-inf"))


class CaptionDecoder(nn.Module):
    def __init__(self, cfg, image_width, text_width):
        super().__init__()
        width = cfg["width"]
        self.query_tokens = cfg["query_tokens"]
        self.image_proj = nn.Linear(image_width, width, bias=False)
        self.text_proj = nn.Linear(text_width, width, bias=False)
        self.queries = nn.Parameter(torch.empty(self.query_tokens, width))
        self.resblocks = nn.ModuleList([ResidualAttentionBlock(width, cfg["heads"], cfg["mlp_width"], cfg["eps"], "tanh")
                                        for _ in range(cfg["layers"])])
        self.ln_final = nn.LayerNorm(width, eps=cfg["eps"])
        self.head = nn.Linear(width, cfg["vocab_size"], bias=False)

    def query_states(self, image_tokens, text_states):
        image, text = self.image_proj(image_tokens), self.text_proj(text_states)
        query = self.queries.unsqueeze(0).expand(image.shape[0], -1, -1)
        x = torch.cat([image, text, query], 1)                                 # no positional embeddings
        mask = prefix_lm_mask(image.shape[1] + text.shape[1], self.query_tokens)
        for block in self.resblocks:
            x = block(x, mask)
        return self.ln_final(x[:, -self.query_tokens:])


class ClipsModel(Clip):
    """open_clip's CLIP (visual.*, text tower at the top level, logit_scale) plus text_decoder.*."""

    def __init__(self, config, decoder_cfg):
        super().__init__(config)
        self.text_decoder = CaptionDecoder(decoder_cfg, config["vision_cfg"]["width"], config["text_cfg"]["width"])


# ---------------------------------------------------------------------------------------------------------------
# Losses (src/OpenVision.Training/Losses) and the optimizer groups (Optimization/ParamGroups.cs).

def normalize(z):
    return z / (z.square().sum(-1, keepdim=True).sqrt() + 1e-8)


def contrastive_loss(image, texts, scale):
    labels = torch.arange(image.shape[0])
    total = 0
    for text in texts:
        total = total + 0.5 * (F.cross_entropy(scale * image @ text.T, labels) + F.cross_entropy(scale * text @ image.T, labels))
    return total / len(texts)


def caption_loss(states, head, caption_ids):
    targets = torch.cat([caption_ids[:, 1:], torch.zeros(caption_ids.shape[0], 1, dtype=torch.long)], 1)
    positions = (targets != 0).flatten().nonzero().squeeze(1)                 # real targets only: [bos] … [eos]
    selected = states.reshape(-1, states.shape[2]).index_select(0, positions)
    nll = F.cross_entropy(head(selected), targets.flatten().index_select(0, positions), reduction="sum")
    return nll / (positions.shape[0] + 1e-8)


def losses(model, batch, weights):
    size = batch["pixels"].shape[0]
    image, image_tokens = model.visual(batch["pixels"])
    text, encoded = model.encode_text(torch.cat([batch["alt_text_ids"], batch["sub_caption_ids"]], 0))
    image, text = normalize(image), normalize(text)
    contrastive = contrastive_loss(image, [text[:size], text[size:]], model.logit_scale.exp())
    states = model.text_decoder.query_states(image_tokens, encoded[:size, :-1])   # alt-text states, [CLS] dropped
    caption = caption_loss(states, model.text_decoder.head, batch["caption_ids"])
    return contrastive * weights["contrastive"] + caption * weights["caption"], contrastive, caption


def optimizer_for(model, settings):
    """AdamW with decay on kernels only: Linear/Conv weights, attention in_proj_weight, the two tower projections."""
    modules = dict(model.named_modules())
    decayed, other = [], []
    for name, parameter in model.named_parameters():
        if not parameter.requires_grad:
            continue
        owner, _, leaf = name.rpartition(".")
        kernel = (leaf == "weight" and isinstance(modules[owner], (nn.Linear, nn.Conv2d))) or leaf == "in_proj_weight" \
            or name in ("visual.proj", "text_projection")
        (decayed if kernel else other).append(parameter)
    o = settings["optimizer"]
    return torch.optim.AdamW([{"params": decayed, "weight_decay": o["weight_decay"]}, {"params": other, "weight_decay": 0.0}],
                             lr=o["learning_rate"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])


# ---------------------------------------------------------------------------------------------------------------

def load_folder(folder):
    path = os.path.join(folder, "train_step.json")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path}: not found; write the folder with `openvision bench train-step --export-weights {folder}`")
    with open(path) as f:
        settings = json.load(f)
    if settings.get("format") != FORMAT:
        raise ValueError(f"{path}: format is {settings.get('format')!r}, this script reads {FORMAT!r}")
    with open(os.path.join(folder, settings["config"])) as f:
        config = json.load(f)
    model = ClipsModel(model_cfg(config), settings["decoder"])
    weights = read_safetensors(os.path.join(folder, settings["weights"]))
    model.load_state_dict(weights, strict=True)
    batch = read_safetensors(os.path.join(folder, settings["batch"]))
    return settings, model, batch


def loaded_blas():
    """The BLAS/LAPACK libraries this process mapped (Debian's torch links whatever libblas.so.3 the system provides)."""
    torch.ones(2, 2) @ torch.ones(2, 2)                                     # make sure the BLAS is loaded
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() or "lapack" in line.lower()}
    except OSError:
        return []
    return sorted(os.path.realpath(p) for p in paths if p.startswith("/"))


def relative(a, b):
    return abs(a - b) / max(abs(b), 1e-30)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", help="written by `openvision bench train-step --export-weights FOLDER`")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: the C# run's)")
    parser.add_argument("--steps", type=int, default=0, help="timed steps (default: the C# run's)")
    parser.add_argument("--warmup-steps", type=int, default=-1, help="untimed steps first (default: the C# run's)")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest relative difference of the first-step losses")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    settings, model, batch = load_folder(args.folder)
    threads = args.threads or settings["threads"]
    torch.set_num_threads(threads)
    steps = args.steps or settings["steps"]
    warmup = settings["warmup_steps"] if args.warmup_steps < 0 else args.warmup_steps
    model.train()
    optimizer = optimizer_for(model, settings)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {settings['model']}: batch {settings['batch_size']}, "
          f"{settings['image_size']} px, {settings['caption_tokens']} caption tokens, {warmup} warm-up + {steps} timed steps", flush=True)
    blas = loaded_blas()
    print(f"BLAS: {', '.join(blas) or 'unknown'}")
    for path in (p for p in blas if "libopenblas" in p):
        # OpenBLAS keeps its own pool (torch.set_num_threads sets OpenMP's): same count, or the two oversubscribe.
        ctypes.CDLL(path).openblas_set_num_threads(threads)
    if any("/blas/libblas.so" in p for p in blas):
        # Debian's libblas3 is the unoptimised Netlib reference: matmuls would measure it, not PyTorch.
        print("warning: this is the Netlib reference BLAS; install libopenblas0-pthread, or put its openblas-pthread "
              "folder on LD_LIBRARY_PATH (see README, Speed), before comparing times", flush=True)

    forward, backward, update, totals, first = [], [], [], [], None
    for step in range(warmup + steps):
        start = time.perf_counter()
        total, contrastive, caption = losses(model, batch, settings["loss_weights"])
        forward_done = time.perf_counter()
        total.backward()
        backward_done = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)                                 # zeroed in place, as TorchSharp does
        end = time.perf_counter()
        totals.append(total.item())
        if first is None:
            first = {"total": total.item(), "contrastive": contrastive.item(), "caption": caption.item()}
        if step >= warmup:
            forward.append((forward_done - start) * 1e3)
            backward.append((backward_done - forward_done) * 1e3)
            update.append((end - backward_done) * 1e3)
        print(f"step {step + 1}/{warmup + steps}{' (warm-up)' if step < warmup else ''}: {(end - start) * 1e3:.1f} ms, "
              f"loss {totals[-1]:.6f}", flush=True)

    step_ms = statistics.median([f + b + u for f, b, u in zip(forward, backward, update)])
    parameters = sum(p.numel() for p in model.parameters())
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{parameters:,} parameters, {threads} threads: {step_ms:.1f} ms/step (median of {steps}), "
          f"{settings['batch_size'] * 1e3 / step_ms:.1f} samples/s; forward {statistics.median(forward):.1f} ms, "
          f"backward {statistics.median(backward):.1f} ms, optimizer {statistics.median(update):.1f} ms; peak RSS {peak_mib} MiB")

    ours = settings["torchsharp"]["first_step_losses"]
    worst = max(relative(first[k], ours[k]) for k in ("total", "contrastive", "caption"))
    print(f"first-step loss: PyTorch {first['total']!r} (contrastive {first['contrastive']!r}, caption {first['caption']!r})")
    print(f"              TorchSharp {ours['total']!r} (contrastive {ours['contrastive']!r}, caption {ours['caption']!r})")
    ok = worst <= args.tolerance
    print(f"largest relative difference {worst:.2e} (tolerance {args.tolerance:.0e}): {'PARITY OK' if ok else 'PARITY FAILED'}")
    theirs = settings["torchsharp"]["total_losses"]
    later = [relative(a, b) for a, b in zip(totals[1:], theirs[1:])]
    if later:
        # After AdamW's first update (≈ lr·sign(g) per element) rounding differences in tiny gradients show up,
        # so later steps are a check of the optimizer setup, not of bit-level agreement.
        print(f"later steps (after AdamW updates): largest relative difference of the total loss {max(later):.2e}")
    print(f"TorchSharp: {settings['torchsharp']['step_ms']:.1f} ms/step, {settings['torchsharp']['samples_per_second']:.1f} samples/s "
          f"with {settings['threads']} threads (measured when the folder was written)")

    if args.json:
        with open(args.json, "w") as f:
            json.dump({"torch": torch.__version__, "blas": blas, "threads": threads, "parameters": parameters, "steps": steps,
                       "warmup_steps": warmup, "step_ms": step_ms, "samples_per_second": settings["batch_size"] * 1e3 / step_ms,
                       "forward_ms": statistics.median(forward), "backward_ms": statistics.median(backward),
                       "optimizer_ms": statistics.median(update), "first_step_losses": first, "total_losses": totals,
                       "peak_rss_mib": peak_mib, "first_step_relative_difference": worst, "parity": ok}, f, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    run_script(main, "train_step.py")
