"""OpenVision's open_clip CLIP in plain PyTorch (1.13, Debian's python3-torch; numpy only besides), shared by the
reference scripts in this folder (train_step.py, export_onnx.py). Not part of OpenVision.NET: nothing in src/ runs it.

Module and parameter names equal the C# state-dict keys (open_clip's), so load_state_dict(strict=True) checks them.
The architecture follows src/OpenVision (vision: patch conv, class token, 2-D sin-cos positions, pre-LN blocks with
exact GELU, no ln_pre, mean over patch tokens then ln_post, projection; text: token embedding, learned positions,
bidirectional blocks with tanh GELU, last position after ln_final, projection). Attention is
torch.nn.MultiheadAttention, as open_clip's ResidualAttentionBlock uses it.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

CONFIG_FILE = "open_clip_config.json"
WEIGHTS_FILE = "open_clip_model.safetensors"

# ---------------------------------------------------------------------------------------------------------------
# safetensors (no PyPI here): 8-byte little-endian header length, JSON header, raw little-endian data.

_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1", "U8": "u1",
           "BOOL": "?"}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: {len(data)} bytes is too short for a safetensors file")
    (length,) = struct.unpack("<Q", data[:8])
    if 8 + length > len(data):
        raise ValueError(f"{path}: header of {length} bytes runs past the end of the file")
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype {entry['dtype']}")
        dtype = np.dtype(_DTYPES[entry["dtype"]])
        start, end = entry["data_offsets"]
        count = int(np.prod(entry["shape"], dtype=np.int64))
        if end - start != count * dtype.itemsize or 8 + length + end > len(data):
            raise ValueError(f"{path}: tensor '{name}' has offsets {start}..{end} that do not fit shape {entry['shape']}")
        array = np.frombuffer(data, dtype=dtype, count=count, offset=8 + length + start)
        tensors[name] = torch.from_numpy(array.astype(dtype.newbyteorder("="), copy=True).reshape(entry["shape"]))
    return tensors


def write_safetensors(path, tensors):
    """float32 tensors only (what open_clip folders hold); the header is padded to 8 bytes as safetensors does."""
    header, chunks, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        array = tensors[name].detach().to(torch.float32).contiguous().numpy().astype("<f4", copy=False)
        raw = array.tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    temp = f"{path}.tmp-{os.getpid()}"
    with open(temp, "wb") as f:
        f.write(struct.pack("<Q", len(encoded)))
        f.write(encoded)
        for chunk in chunks:
            f.write(chunk)
    os.replace(temp, path)


# ---------------------------------------------------------------------------------------------------------------
# The model.

class Mlp(nn.Module):
    def __init__(self, width, hidden, approximate):
        super().__init__()
        self.c_fc = nn.Linear(width, hidden)
        self.gelu = nn.GELU(approximate=approximate)
        self.c_proj = nn.Linear(hidden, width)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class ResidualAttentionBlock(nn.Module):
    """open_clip's pre-LN block: x + attn(ln_1(x)), then x + mlp(ln_2(x))."""

    def __init__(self, width, heads, mlp_width, eps, approximate):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=eps)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width, eps=eps)
        self.mlp = Mlp(width, mlp_width, approximate)

    def forward(self, x, mask=None):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False, attn_mask=mask)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width, layers, heads, mlp_width, eps, approximate):
        super().__init__()
        self.resblocks = nn.ModuleList(
            [ResidualAttentionBlock(width, heads, mlp_width, eps, approximate) for _ in range(layers)])

    def forward(self, x, mask=None):
        for block in self.resblocks:
            x = block(x, mask)
        return x


def sincos_table(grid, width):
    """big_vision posemb_sincos_2d with a zero class-token row, in float32 (SinCosPositionalEmbedding.cs)."""
    quarter = width // 4
    omega = torch.arange(quarter, dtype=torch.float32) / float(max(quarter - 1, 1))
    omega = 1.0 / torch.pow(10000.0, omega)
    coordinates = torch.arange(grid, dtype=torch.float32)
    y = coordinates.repeat_interleave(grid)
    x = coordinates.repeat(grid)
    xo, yo = torch.outer(x, omega), torch.outer(y, omega)
    table = torch.cat([xo.sin(), xo.cos(), yo.sin(), yo.cos()], 1)
    return torch.cat([torch.zeros(1, width), table], 0)


def _approximate(cfg):
    return (cfg.get("act_kwargs") or {}).get("approximate", "none")


def _eps(cfg):
    return (cfg.get("norm_kwargs") or {}).get("eps", 1e-5)


class VisionTower(nn.Module):
    def __init__(self, cfg, embed_dim):
        super().__init__()
        width, patch = cfg["width"], cfg["patch_size"]
        self.grid = cfg["image_size"] // patch
        self.width = width
        self.conv1 = nn.Conv2d(cfg.get("in_channels", 3), width, patch, stride=patch, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(width))
        # A constant in OpenVision's JAX ViT: frozen, and left out of the optimizer (ParamGroups.Frozen).
        self.positional_embedding = nn.Parameter(torch.empty(self.grid * self.grid + 1, width), requires_grad=False)
        self.transformer = Transformer(width, cfg["layers"], width // cfg.get("head_width", 64),
                                       int(width * cfg.get("mlp_ratio", 4.0)), _eps(cfg), _approximate(cfg))
        self.ln_post = nn.LayerNorm(width, eps=_eps(cfg))
        self.proj = nn.Parameter(torch.empty(width, embed_dim))
        self._tables = {}

    def position_table(self, grid):
        # The stored table at the config's grid, the sin-cos table recomputed for others (VisionTransformer.PositionTable).
        if grid == self.grid:
            return self.positional_embedding
        if grid not in self._tables:
            self._tables[grid] = sincos_table(grid, self.width)
        return self._tables[grid]

    def forward(self, pixels):
        x = self.conv1(pixels).flatten(2).transpose(1, 2)                      # [B, g², W]
        cls = self.class_embedding.view(1, 1, -1).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], 1) + self.position_table(pixels.shape[2] // self.conv1.stride[0])
        x = self.transformer(x)
        tokens = x[:, 1:]                                                      # raw patch tokens: the decoder's input
        pooled = self.ln_post(tokens.mean(1))                                  # avg pool without the class token, then ln_post
        return pooled @ self.proj, tokens

    def init_random(self):
        """open_clip's VisionTransformer init (class token and projection ~ N(0, W^-1/2)), the sin-cos table, and
        PyTorch's defaults for the layers."""
        scale = self.width ** -0.5
        with torch.no_grad():
            self.class_embedding.normal_(0, scale)
            self.proj.normal_(0, scale)
            self.positional_embedding.copy_(sincos_table(self.grid, self.width))


class Clip(nn.Module):
    """open_clip's CLIP as OpenVision configures it: visual.*, the text tower at the top level, logit_scale."""

    def __init__(self, model_cfg):
        super().__init__()
        vision, text = model_cfg["vision_cfg"], model_cfg["text_cfg"]
        check_openvision(vision, text)
        embed_dim = model_cfg["embed_dim"]
        self.visual = VisionTower(vision, embed_dim)
        width = text["width"]
        self.token_embedding = nn.Embedding(text["vocab_size"], width)
        self.positional_embedding = nn.Parameter(torch.empty(text["context_length"], width))
        self.transformer = Transformer(width, text["layers"], text["heads"], int(width * text.get("mlp_ratio", 4.0)),
                                       _eps(text), _approximate(text))
        self.ln_final = nn.LayerNorm(width, eps=_eps(text))
        self.text_projection = nn.Parameter(torch.empty(width, embed_dim))
        self.logit_scale = nn.Parameter(torch.empty(()))
        self._init_logit_scale = model_cfg.get("init_logit_scale", math.log(1 / 0.07))

    def encode_text(self, ids):
        x = self.token_embedding(ids) + self.positional_embedding
        encoded = self.transformer(x)                                          # bidirectional: no mask
        pooled = self.ln_final(encoded)[:, -1] @ self.text_projection          # [CLS] is always last
        return pooled, encoded

    def init_random(self):
        """open_clip's CLIP init (OpenVisionModel.Text.cs for the text tower); the vision tower's own."""
        self.visual.init_random()
        width, layers = self.positional_embedding.shape[1], len(self.transformer.resblocks)
        proj_std, attn_std, fc_std = (width ** -0.5) * ((2 * layers) ** -0.5), width ** -0.5, (2 * width) ** -0.5
        with torch.no_grad():
            nn.init.normal_(self.token_embedding.weight, std=0.02)
            nn.init.normal_(self.positional_embedding, std=0.01)
            for block in self.transformer.resblocks:
                nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
                nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
                nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
                nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
            nn.init.normal_(self.text_projection, std=width ** -0.5)
            self.logit_scale.fill_(self._init_logit_scale)


def check_openvision(vision, text=None):
    problems = []
    if not vision.get("no_ln_pre"):
        problems.append("vision_cfg.no_ln_pre must be true")
    if str(vision.get("pool_type", "tok")).lower() != "avg" or not vision.get("final_ln_after_pool"):
        problems.append("vision_cfg needs pool_type avg with final_ln_after_pool")
    if text is not None and (text.get("pool_type") != "last" or not text.get("no_causal_mask")):
        problems.append("text_cfg needs pool_type last with no_causal_mask")
    if problems:
        raise ValueError("only OpenVision's layout is implemented here: " + "; ".join(problems))


def model_cfg(config):
    """The model part of an open_clip config: hub files wrap it in model_cfg, bare model configs are it."""
    return config.get("model_cfg", config)


def run_script(main, script):
    """Exit with main()'s status; a bad input (missing file, malformed config or weights) is one line on stderr and
    status 2, never a traceback."""
    try:
        sys.exit(main())
    except (OSError, ValueError, KeyError, RuntimeError) as e:
        print(f"{script}: error: {e}", file=sys.stderr)
        sys.exit(2)
