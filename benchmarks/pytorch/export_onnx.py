#!/usr/bin/env python3
"""OpenVision's vision tower (encode_image) exported by PyTorch's own exporter, torch.onnx, as an ONNX Runtime anchor.

Not part of OpenVision.NET: nothing in src/ runs or needs it. `openvision bench --onnx-file` times the file it writes
in a plain ONNX Runtime session next to our backend, so the comparison does not depend on our exporter, and first
checks that the file computes what our TorchSharp encode_image computes on the same weights.

    # random weights (as `openvision bench` uses), written as an open_clip folder that the bench then loads:
    /usr/bin/python3 benchmarks/pytorch/export_onnx.py openvision-vit-tiny-patch16-224 \\
        --save-model /tmp/openvision-vit-tiny-patch16-224 --output /tmp/tiny.torch.onnx
    ./openvision bench --backend onnx --models /tmp/openvision-vit-tiny-patch16-224 --onnx-file /tmp/tiny.torch.onnx \\
        --batch-sizes 1 8 32 --seconds 4

    # existing weights: an open_clip folder (open_clip_config.json + open_clip_model.safetensors) or a .safetensors
    # file with the config beside it, e.g. one `openvision train` wrote or ../shared/reference/models/NAME
    /usr/bin/python3 benchmarks/pytorch/export_onnx.py ../shared/reference/models/ovtest-mini-p8-40 --output /tmp/mini.onnx
    ./openvision bench --models ../shared/reference/models/ovtest-mini-p8-40 --backend onnx --onnx-file /tmp/mini.onnx

MODEL is a folder, a .safetensors file, an open_clip config JSON or a built-in name (a file in
src/OpenVision/Configs/Builtin); the last two have no weights, so the model is randomly initialised (open_clip's
init, --seed) and --save-model DIR is required: the bench must load the same weights to check the numbers.

The graph: input `pixels` [batch, 3, S, S] float32 (S: the config's image_size, the size the bench times; the batch axis
is dynamic), output `image_features` [batch, E]: open_clip's encode_image as OpenVision configures it (patch conv, class
token, 2-D sin-cos positions for the grid, pre-LN blocks with exact GELU, no ln_pre, attention over all tokens, mean
over patch tokens then ln_post, projection), the model code of openvision_torch.py with torch.nn.MultiheadAttention as
open_clip uses it. Like OpenVisionModel.EncodeImage (and open_clip's encode_image) the features are not normalised by
default; that is also what our exported graph outputs (OnnxEncoder normalises afterwards). --normalize adds the L2
normalisation of OpenVisionEncoder's output to the graph. Needs `torch` (Debian's python3-torch 1.13, run with
/usr/bin/python3; no `onnx` package needed) and `numpy`. Models above 2 GB (Huge) are written with external data
files beside the .onnx, which ONNX Runtime finds there.
"""
import argparse
import json
import os
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

from openvision_torch import (CONFIG_FILE, WEIGHTS_FILE, Clip, VisionTower, check_openvision, model_cfg, read_safetensors,
                              run_script, write_safetensors)

BUILTIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "OpenVision", "Configs", "Builtin")
INPUT_NAME, OUTPUT_NAME = "pixels", "image_features"


class ImageEncoder(nn.Module):
    """encode_image: the vision tower's projected features, L2-normalised when asked."""

    def __init__(self, visual, normalize):
        super().__init__()
        self.visual = visual
        self.normalize = normalize

    def forward(self, pixels):
        features = self.visual(pixels)[0]
        return F.normalize(features, dim=-1) if self.normalize else features


def resolve(reference):
    """(config, weights path or None) for a folder, a .safetensors file, a config JSON or a built-in name."""
    if os.path.isdir(reference):
        config_path, weights = os.path.join(reference, CONFIG_FILE), os.path.join(reference, WEIGHTS_FILE)
        if not os.path.isfile(config_path):
            raise FileNotFoundError(f"{reference}: no {CONFIG_FILE} in the folder")
        if not os.path.isfile(weights):
            raise FileNotFoundError(f"{reference}: no {WEIGHTS_FILE} in the folder (this script reads safetensors only, "
                                    "never pickle)")
    elif reference.endswith(".safetensors"):
        if not os.path.isfile(reference):
            raise FileNotFoundError(f"{reference}: not found")
        config_path, weights = os.path.join(os.path.dirname(os.path.abspath(reference)), CONFIG_FILE), reference
        if not os.path.isfile(config_path):
            raise FileNotFoundError(f"{reference}: no {CONFIG_FILE} beside it, so its architecture is unknown")
    elif reference.endswith(".json"):
        config_path, weights = reference, None
    else:
        config_path, weights = os.path.join(BUILTIN, reference + ".json"), None
        if not os.path.isfile(config_path):
            names = sorted(n[:-5] for n in os.listdir(BUILTIN)) if os.path.isdir(BUILTIN) else []
            raise FileNotFoundError(f"'{reference}' is not a folder, a .safetensors file, a config JSON or a built-in name "
                                    f"({', '.join(names) or BUILTIN + ' not found'})")
    with open(config_path) as f:
        try:
            config = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError(f"{config_path}: not JSON ({e})") from e
    return config, weights


def load_vision(config, weights, seed, save_model):
    """The vision tower with the checkpoint's visual.* weights (strictly), or a random model saved to save_model."""
    cfg = model_cfg(config)
    if weights is not None:
        check_openvision(cfg["vision_cfg"])
        visual = VisionTower(cfg["vision_cfg"], cfg["embed_dim"])
        state = {k[len("visual."):]: v for k, v in read_safetensors(weights).items() if k.startswith("visual.")}
        missing, unexpected = visual.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{weights}: visual.* keys do not fit the config's vision tower "
                             f"(missing {missing[:5]}, unexpected {unexpected[:5]})")
        if save_model:
            raise ValueError("--save-model is for random weights; the bench can load the given weights directly")
        return visual
    if not save_model:
        raise ValueError("a config without weights is randomly initialised: give --save-model DIR so that the bench "
                         "can load the same weights (openvision bench --models DIR --onnx-file ...)")
    torch.manual_seed(seed)
    model = Clip(cfg)
    model.init_random()
    os.makedirs(save_model, exist_ok=True)
    write_safetensors(os.path.join(save_model, WEIGHTS_FILE), model.state_dict())
    with open(os.path.join(save_model, CONFIG_FILE), "w") as f:
        json.dump(config, f, indent=2)
    return model.visual


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="open_clip folder, .safetensors file (config beside it), config JSON or built-in name")
    parser.add_argument("--output", "-o", required=True, help="the .onnx file to write")
    parser.add_argument("--save-model", help="random init only: write the weights and config here as an open_clip folder")
    parser.add_argument("--seed", type=int, default=0, help="random init only: torch.manual_seed")
    parser.add_argument("--opset", type=int, default=17, help="ONNX opset (17, the highest torch 1.13 exports, has "
                                                              "LayerNormalization)")
    parser.add_argument("--normalize", action="store_true", help="L2-normalise the output in the graph")
    args = parser.parse_args()

    config, weights = resolve(args.model)
    visual = load_vision(config, weights, args.seed, args.save_model).eval()
    cfg = model_cfg(config)["vision_cfg"]
    size = cfg["image_size"]
    encoder = ImageEncoder(visual, args.normalize).eval()
    example = torch.randn(2, cfg.get("in_channels", 3), size, size, generator=torch.Generator().manual_seed(0))
    output_dir = os.path.dirname(os.path.abspath(args.output))
    os.makedirs(output_dir, exist_ok=True)
    with torch.no_grad():
        expected = encoder(example)
    # Traced with autograd on (the weights require grad): otherwise torch 1.13's MultiheadAttention takes its inference
    # fast path (_native_multi_head_attention, whenever the head count is even) and that has no ONNX export.
    with warnings.catch_warnings():
        # The tracer warns that the grid (from the input's size) becomes a constant: it should, the size is fixed.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(encoder, (example,), args.output, opset_version=args.opset, do_constant_folding=True,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    parameters = sum(p.numel() for p in visual.parameters())
    print(f"torch {torch.__version__}: exported the vision tower of {args.model} ({parameters:,} parameters, "
          f"{'random weights saved to ' + args.save_model if weights is None else weights}) to {args.output} "
          f"({os.path.getsize(args.output) / 2**20:.1f} MiB, opset {args.opset})")
    print(f"input {INPUT_NAME} [batch, {example.shape[1]}, {size}, {size}] float32 -> output {OUTPUT_NAME} "
          f"[batch, {expected.shape[1]}] ({'L2-normalised' if args.normalize else 'not normalised, as encode_image'})")
    folder = args.save_model or (args.model if weights is not None and os.path.isdir(args.model) else os.path.dirname(weights or ""))
    print(f"compare and time: ./openvision bench --models {folder} --backend onnx --onnx-file {args.output}")
    return 0


if __name__ == "__main__":
    run_script(main, "export_onnx.py")
