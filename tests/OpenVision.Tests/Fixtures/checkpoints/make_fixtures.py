# Regenerates the torch.save fixtures in this folder (run once by hand; tests never need Python):
#   /usr/bin/python3 make_fixtures.py      (Debian python3-torch 1.13.1, the reference's PyTorch version)
# Every tensor is built from arange so the C# tests can work out the expected values by hand.
import collections
import torch

torch.manual_seed(0)

def ar(n, dtype):
    return torch.arange(n).to(dtype)

# One tensor per storage type we read; shapes chosen so each dtype is easy to check.
dtypes = {
    "f16": ar(6, torch.float16).reshape(2, 3) / 2,
    "bf16": ar(6, torch.bfloat16).reshape(3, 2) - 2,
    "f32": ar(4, torch.float32) * 0.25,
    "f64": ar(3, torch.float64) - 1.5,
    "i8": ar(5, torch.int8) - 2,
    "i16": ar(4, torch.int16) * -300,
    "i32": ar(4, torch.int32) * 100000,
    "i64": ar(3, torch.int64) * (1 << 40),
    "u8": ar(4, torch.uint8) + 250,
    "bool": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
}
torch.save(dtypes, "dtypes.pt")

# Views: every tensor below shares one storage of arange(24) float32.
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
views = {
    "base": base,
    "transposed": base.t(),                 # [6, 4], strides (1, 6)
    "row_slice": base[1:3],                 # offset 6, contiguous
    "col_slice": base[:, 2:5],              # offset 2, strides (6, 1)
    "stepped": base[::2, ::3],              # strides (12, 3)
    "element": base[3, 5],                  # 0-d, offset 23
    "broadcast": torch.arange(3, dtype=torch.float32).expand(2, 3),  # stride 0
}
torch.save(views, "views.pt")

# A training checkpoint: the weights sit under "state_dict" with DataParallel's "module." prefix,
# next to an optimizer state and plain Python values (ints, floats, strings, None, tuples, bools).
linear = torch.nn.Linear(3, 2)
with torch.no_grad():
    linear.weight.copy_(torch.arange(6, dtype=torch.float32).reshape(2, 3))
    linear.bias.copy_(torch.tensor([10.0, 20.0]))
# clone(): state_dict() tensors alias the parameters, which opt.step() below changes in place.
sd = collections.OrderedDict((f"module.{k}", v.clone()) for k, v in linear.state_dict().items())
opt = torch.optim.AdamW(linear.parameters(), lr=1e-3, betas=(0.9, 0.98))
linear(torch.ones(1, 3)).sum().backward()
opt.step()
training = {"epoch": 3, "name": "fixture", "state_dict": sd, "optimizer": opt.state_dict(), "scaler": None,
            "big": 1 << 40, "negative": -7, "ratio": 0.5, "flags": (True, False)}
torch.save(training, "training.pt")

# A module's own state_dict (an OrderedDict carrying _metadata, which pickles as BUILD), saved with
# protocol 4 to exercise FRAME, SHORT_BINUNICODE, MEMOIZE and STACK_GLOBAL; plus an nn.Parameter.
fresh = torch.nn.Linear(3, 2)
fresh.load_state_dict({k[len("module."):]: v for k, v in sd.items()})
state = fresh.state_dict()
state["param"] = torch.nn.Parameter(torch.arange(4, dtype=torch.float32))
torch.save(state, "protocol4.pt", pickle_protocol=4)

# The legacy (pre-1.6, non-zip) format: must be refused with a clear message.
torch.save({"w": torch.ones(2)}, "legacy.pt", _use_new_zipfile_serialization=False)

# timm/DeiT-style wrapper: the weights under "model", next to non-tensor training state.
torch.save({"model": fresh.state_dict(), "args": {"lr": 0.1}, "epoch": 7}, "model_key.pt")

# A TorchScript archive (torch.jit.save) is a zip too, but not a state dict: it must be refused by name.
torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), "torchscript.pt")
