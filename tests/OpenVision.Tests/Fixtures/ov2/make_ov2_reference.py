# Regenerates the OpenVision 2 fixtures in this folder (run once by hand; tests never need Python):
#   git -C MIRROR archive HEAD src/convert_upload/open_clip | tar x -C /tmp/ov2ref
#   /usr/bin/python3 make_ov2_reference.py /tmp/ov2ref/src/convert_upload
# (MIRROR: a clone of github.com/UCSC-VLAA/OpenVision, commit 6c24e45; Debian python3-torch 1.13, Pillow 9.4.)
#
# Vision: the outputs come from the repository's own open_clip fork, through the function its README tells OpenVision 2
# users to call, create_vision_encoder_and_transforms('hf-hub:...'): the hub download is redirected to the folders
# written here, and the fork's import-time dependencies this path never calls (torchvision, tqdm, ftfy, regex,
# tokenizers, huggingface_hub) are stubbed, because Debian's python3-torch comes without them.
#
# Caption decoder: the published modeling_openvision2_decoder.py is not in the repository (it lives in the hub repos,
# which cannot be downloaded here), so RefDecoder below is a minimal PyTorch transcription of the JAX decoder the
# weights were trained with (src/models/text_decoder_v2.py _Model, fusion_style 'concat', and
# src/models/text_transformer.py Encoder1DBlock / MlpBlock), with the key names the hub's decoder is documented to use.
# It builds the mask both ways: 'causal' over the whole [image; text] sequence (what text_decoder_v2.py:416 reaches,
# since it builds Encoder without fusion_style, whose default 'cross_attn' branch is text_transformer.py:414-416) and
# 'prefix' (image bidirectional, text causal and reading every image token: text_transformer.py:417-442).
import json
import math
import os
import struct
import sys
import types
from collections import OrderedDict

import numpy as np
import torch
from torch import nn
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = os.path.join(HERE, "..", "..", "..", "..", "src", "OpenVision", "Text", "Assets", "bert_base_vocab_bos_eos.txt")


def import_fork(path):
    class _Meta(type):
        def __getattr__(cls, name):
            return cls

    def anything(name):
        return _Meta(name, (), {"__init__": lambda self, *a, **k: None, "__call__": lambda self, *a, **k: self})

    class _Stub(types.ModuleType):
        __path__ = []

        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return anything(name)

    for name in ["torchvision", "torchvision.ops", "torchvision.ops.misc", "torchvision.transforms",
                 "torchvision.transforms.functional", "tqdm", "huggingface_hub", "ftfy", "regex", "tokenizers"]:
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = _Stub(name)
    sys.path.insert(0, path)
    import open_clip
    import open_clip.pretrained as pretrained
    from open_clip.pos_embed import get_2d_sincos_pos_embed
    # hf-hub:local/NAME reads HERE/NAME/<file> instead of downloading it.
    pretrained.has_hf_hub = lambda necessary=False: True
    pretrained.hf_hub_download = lambda model_id, filename, revision=None, cache_dir=None: \
        os.path.join(HERE, model_id.split("/")[-1], filename)
    return open_clip, get_2d_sincos_pos_embed


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, offset = {}, [], 0
    for key, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[key] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def randomize_like_trained(module, generator):
    # Random but shaped like trained weights: LayerNorm gains near 1, small biases, weights as initialised.
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith("bias") or name == "class_embedding":
                p.copy_(0.05 * torch.randn(p.shape, generator=generator))
            elif p.ndim == 1:
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=generator))


def vision_fixture(open_clip, sincos, name, vision_cfg, embed_dim, images, seed):
    folder = os.path.join(HERE, name)
    os.makedirs(folder, exist_ok=True)
    config = {"model_cfg": {"embed_dim": embed_dim, "vision_cfg": vision_cfg},
              "preprocess_cfg": {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                                 "interpolation": "bilinear", "resize_mode": "squash"}}
    with open(os.path.join(folder, "open_clip_config.json"), "w") as f:
        json.dump(config, f, indent=2)

    # The weights: a tower built by the fork, then stored without the visual. prefix, as the OV2 releases are.
    torch.manual_seed(seed)
    from open_clip.model import _build_vision_tower
    tower = _build_vision_tower(embed_dim=embed_dim, vision_cfg=dict(vision_cfg))
    randomize_like_trained(tower, torch.Generator().manual_seed(seed))
    grid = vision_cfg["image_size"] // vision_cfg["patch_size"]
    with torch.no_grad():
        tower.positional_embedding.copy_(torch.from_numpy(sincos(vision_cfg["width"], grid, cls_token=True)).float())
    torch.save(tower.state_dict(), os.path.join(folder, "open_clip_pytorch_model.bin"))

    # The reference path itself.
    from open_clip.factory import create_vision_encoder_and_transforms
    encoder = create_vision_encoder_and_transforms(f"hf-hub:local/{name}").eval()
    size = vision_cfg["image_size"]
    pixels = torch.randn((images, 3, size, size), generator=torch.Generator().manual_seed(seed + 1))
    expected = {"pixels": pixels}
    with torch.no_grad():
        pooled, tokens = encoder(pixels)
        expected["image_features"], expected["image_tokens"] = pooled, tokens
        encoder.double()
        pooled, tokens = encoder(pixels.double())
        expected["image_features_f64"], expected["image_tokens_f64"] = pooled, tokens
    encoder.float()
    return folder, encoder, expected


class RefBlock(nn.Module):
    # text_transformer.py Encoder1DBlock: pre-LN (flax LayerNorm eps 1e-6), MHA with biased q/k/v/out, MLP with tanh GELU.
    def __init__(self, width, heads, mlp):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width, eps=1e-6)
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_2 = nn.LayerNorm(width, eps=1e-6)
        self.mlp = nn.Sequential(OrderedDict([("c_fc", nn.Linear(width, mlp)), ("gelu", nn.GELU(approximate="tanh")),
                                              ("c_proj", nn.Linear(mlp, width))]))

    def forward(self, x, blocked):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, attn_mask=blocked, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class RefDecoder(nn.Module):
    # text_decoder_v2.py _Model with fusion 'concat': embed(text) with no positional embedding, image tokens through a
    # bias-free projection, [image; text] through the blocks, image positions dropped, decoder_norm, bias-free head.
    def __init__(self, cfg):
        super().__init__()
        w = cfg["width"]
        self.token_embedding = nn.Embedding(cfg["vocab_size"], w)
        self.image_projection = nn.Linear(cfg["vision_width"], w, bias=False)
        self.blocks = nn.ModuleList(RefBlock(w, cfg["num_heads"], cfg["mlp_dim"]) for _ in range(cfg["depth"]))
        self.ln_final = nn.LayerNorm(w, eps=1e-6)
        self.lm_head = nn.Linear(w, cfg["vocab_size"], bias=False)

    @staticmethod
    def blocked(images, texts, kind):
        n = images + texts
        i = torch.arange(n).unsqueeze(1)
        j = torch.arange(n).unsqueeze(0)
        causal = j > i
        if kind == "causal":
            return causal
        # prefix-LM: image rows see every image column and no text; text rows see all images and earlier text.
        return torch.where(i < images, j >= images, causal)

    def forward(self, image_tokens, text_ids, kind):
        image = self.image_projection(image_tokens)
        x = torch.cat([image, self.token_embedding(text_ids).to(image.dtype)], 1)
        mask = self.blocked(image.shape[1], text_ids.shape[1], kind)
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.ln_final(x[:, image.shape[1]:]))


def greedy(decoder, tokens, kind, bos, eos, limit, max_tokens):
    ids = [bos]
    for _ in range(max_tokens):
        logits = decoder(tokens, torch.tensor([ids]), kind)[0, -1, :limit]
        nxt = int(torch.argmax(logits))
        if nxt == eos:
            break
        ids.append(nxt)
    return ids[1:]


def beam(decoder, tokens, kind, bos, eos, limit, max_tokens, width):
    # Sum of log-probabilities, no length normalisation; the best `width` expansions survive each step, those ending
    # in [eos] leave the beam; stop when `width` captions are finished or nothing is left to expand.
    live, finished = [(0.0, [bos])], []
    for _ in range(max_tokens):
        candidates = []
        for score, seq in live:
            logp = torch.log_softmax(decoder(tokens, torch.tensor([seq]), kind)[0, -1, :limit].double(), -1)
            top = torch.topk(logp, width)
            candidates += [(score + float(v), seq + [int(k)]) for v, k in zip(top.values, top.indices)]
        candidates.sort(key=lambda c: -c[0])
        live = []
        for score, seq in candidates[:width]:
            (finished if seq[-1] == eos else live).append((score, seq))
        if len(finished) >= width or not live:
            break
    best = max(finished or live, key=lambda c: c[0])[1]
    return [t for t in best[1:] if t != eos]


def detokenize(ids, vocab):
    special = {0, 1, 2, 100, 101, 102, 103}
    words = []
    for i in ids:
        if i in special:
            continue
        t = vocab[i]
        if t.startswith("##") and len(t) > 2 and words:
            words[-1] += t[2:]
        else:
            words.append(t)
    return " ".join(words)


def main():
    open_clip, sincos = import_fork(sys.argv[1])
    base = {"no_ln_pre": True, "pool_type": "avg", "final_ln_after_pool": True, "norm_kwargs": {"eps": 1e-6},
            "output_tokens": True}
    # mini-a: the released layout at a small width (embed_dim = width, 3x3 grid, 2 heads); it also carries a decoder.
    folder_a, encoder_a, expected_a = vision_fixture(open_clip, sincos, "ov2-mini-a", {
        "image_size": 42, "layers": 2, "width": 32, "patch_size": 14, "head_width": 16, **base}, 32, 2, seed=10)
    # mini-b: three blocks and heads, the SoViT MLP ratio, an image size not divisible by the patch, embed_dim < width.
    _, _, expected_b = vision_fixture(open_clip, sincos, "ov2-mini-b", {
        "image_size": 46, "layers": 3, "width": 24, "patch_size": 14, "head_width": 8, "mlp_ratio": 3.7362, **base},
        16, 2, seed=20)
    write_safetensors(os.path.join(HERE, "ov2-mini-b", "expected.safetensors"), expected_b)

    # The caption decoder of mini-a: files as the hub repos ship them.
    cfg = {"width": 16, "depth": 2, "num_heads": 2, "mlp_dim": 64, "vocab_size": 1100, "vision_width": 32,
           "bos_id": 1, "eos_id": 2}
    with open(os.path.join(folder_a, "text_decoder_config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    torch.manual_seed(30)
    decoder = RefDecoder(cfg).eval()
    randomize_like_trained(decoder, torch.Generator().manual_seed(30))
    with torch.no_grad():
        # A larger head spreads the logits, so greedy and beam choices are far from ties; the [unused*] rows (3..998)
        # are damped so that the captions are made of the printable tokens 999..1099 (punctuation, digits, letters).
        decoder.lm_head.weight.mul_(4.0)
        decoder.lm_head.weight[3:999].mul_(0.05)
        decoder.lm_head.weight[2].mul_(1.3)   # [eos] likely enough that some captions end before the limit
    write_safetensors(os.path.join(folder_a, "caption_decoder.safetensors"),
                      {k: v.contiguous() for k, v in decoder.state_dict().items()})

    text_ids = torch.tensor([[1, 1037, 1045, 1020], [1, 1012, 1037, 2]], dtype=torch.int64)
    expected_a["decoder_text_ids"] = text_ids
    with torch.no_grad():
        for kind in ["causal", "prefix"]:
            expected_a[f"decoder_logits_{kind}"] = decoder(expected_a["image_tokens"], text_ids, kind)
            expected_a[f"decoder_logits_{kind}_f64"] = decoder.double()(expected_a["image_tokens_f64"], text_ids, kind)
            decoder.float()
    write_safetensors(os.path.join(folder_a, "expected.safetensors"), expected_a)

    # End to end: one PNG through the model's own preprocessing (Pillow bilinear squash, ImageNet mean/std), then
    # greedy and beam-3 captions of at most 8 tokens, restricted to the vocabulary file's 30,522 ids.
    rng = np.random.default_rng(40)
    image = Image.fromarray(rng.integers(0, 256, (50, 61, 3), dtype=np.uint8))
    image.save(os.path.join(HERE, "caption-image.png"))
    resized = np.asarray(image.resize((42, 42), Image.BILINEAR), dtype=np.float32) / np.float32(255)
    mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
    std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
    pixels = torch.from_numpy(((resized - mean) / std).transpose(2, 0, 1).copy()).unsqueeze(0)
    with open(VOCAB, encoding="utf-8") as f:
        vocab = [line.rstrip("\n") for line in f]
    limit = min(cfg["vocab_size"], len(vocab))
    captions = {}
    with torch.no_grad():
        _, tokens = encoder_a(pixels)
        for kind in ["causal", "prefix"]:
            ids = greedy(decoder, tokens, kind, 1, 2, limit, 8)
            beam_ids = beam(decoder, tokens, kind, 1, 2, limit, 8, 3)
            captions[kind] = {"greedy_ids": ids, "greedy_text": detokenize(ids, vocab),
                              "beam3_ids": beam_ids, "beam3_text": detokenize(beam_ids, vocab)}
    with open(os.path.join(HERE, "expected-captions.json"), "w") as f:
        json.dump({"image": "caption-image.png", "model": "ov2-mini-a", "max_tokens": 8, **captions}, f, indent=2)
    print(json.dumps(captions, indent=1))


if __name__ == "__main__":
    main()
