#!/usr/bin/python3
"""torch_ref.py: a PyTorch reference for one sparsetune training run.

Reads a run directory written by `sparsetune train --save-data` (config.ini,
student_init.safetensors, teacher.safetensors, x.npy, y.npy), repeats the run
in PyTorch (float32, full batch) and produces the rows of metrics.csv as
defined in docs DESIGN.md "Exact semantics": row k describes theta_k, the
parameters after k updates; its loss terms come from the forward pass at
theta_k.

Usable as a module (load_run, train, read_metrics_csv, ...) and as a program:

    /usr/bin/python3 tests/torch_ref.py RUN_DIR --out ref.csv [--variant V]
    /usr/bin/python3 tests/torch_ref.py --selftest

Variants deliberately change the algorithm, so that a comparison can show it
detects a wrong implementation (see VARIANTS). Only the Python standard
library, numpy and torch are used: safetensors and config.ini are parsed here.
"""

import argparse
import json
import math
import os
import struct
import sys
import tempfile

import numpy as np
import torch

# Threshold of the `changed_<t>` observable: an entry counts as changed when
# |theta - theta0| > CHANGED_EPS.
CHANGED_EPS = 1e-6

VARIANTS = {
    None: "torch.optim optimizers, penalty as specified (the reference)",
    "hand": "hand-written optimizers, same formulas and operation order as "
            "torch.optim 1.13 (bit-identical to the reference)",
    "adam-no-bias-correction": "WRONG on purpose: Adam/AdamW without bias "
                               "correction, step = lr * m / (sqrt(v) + eps)",
    "rounding": "correct, but rounds differently: the samples in reverse "
                "order (other summation order in every batch reduction), mse "
                "as sum * (1/N) and the penalty differentiated by autograd; a "
                "second valid float32 implementation, to measure how far two "
                "correct ones drift apart",
    "l1-sum-for-mean": "WRONG on purpose: the l1 penalty's gradient uses "
                       "reduction sum although the config says mean",
    "l1-sign0-one": "WRONG on purpose: the l1 subgradient takes sign(0) = +1 "
                    "instead of 0",
}


# --------------------------------------------------------------------------
# File formats
# --------------------------------------------------------------------------

_ST_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16,
              "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Returns (tensors, metadata): tensors maps name -> numpy array (a copy),
    metadata is the header's "__metadata__" dict (or {})."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n_header,) = struct.unpack("<Q", blob[:8])
    if 8 + n_header > len(blob):
        raise ValueError(f"{path}: header length {n_header} exceeds file size")
    header = json.loads(blob[8:8 + n_header].decode("utf-8"))
    data = blob[8 + n_header:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        dtype = _ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: {name}: unsupported dtype {info['dtype']}")
        begin, end = info["data_offsets"]
        shape = tuple(int(s) for s in info["shape"])
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if end - begin != count * np.dtype(dtype).itemsize or end > len(data):
            raise ValueError(f"{path}: {name}: data_offsets {begin},{end} do "
                             f"not fit shape {list(shape)}")
        arr = np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"),
                            count=count, offset=begin)
        tensors[name] = arr.reshape(shape).astype(dtype, copy=True)
    return tensors, meta


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors (dict name -> array, in insertion order)."""
    header = {}
    chunks = []
    offset = 0
    for name, arr in tensors.items():
        raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(arr)),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for c in chunks:
            f.write(c)


def read_config(path):
    """Parses `key = value` lines; '#' and ';' start comment lines, a
    `[section]` line is ignored. Returns dict key -> value (strings)."""
    cfg = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            s = line.strip()
            if not s or s[0] in "#;" or (s[0] == "[" and s[-1] == "]"):
                continue
            if "=" not in s:
                raise ValueError(f"{path}:{lineno}: expected 'key = value'")
            key, value = s.split("=", 1)
            cfg[key.strip()] = value.strip()
    return cfg


def read_metrics_csv(path):
    """Returns (columns, rows): rows is a float64 array [n_rows, n_columns]."""
    with open(path, encoding="utf-8") as f:
        columns = f.readline().strip().split(",")
        rows = [[float(v) for v in line.split(",")] for line in f if line.strip()]
    return columns, np.array(rows, dtype=np.float64).reshape(-1, len(columns))


def write_metrics_csv(path, columns, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write(",".join(columns) + "\n")
        for r in rows:
            f.write(",".join(["%d" % r[0]] + ["%.9g" % v for v in r[1:]]) + "\n")


# --------------------------------------------------------------------------
# Run description
# --------------------------------------------------------------------------

def tensor_names(n_layers):
    """w1, b1, w2, b2, ... (1-based, the CSV and report names)."""
    out = []
    for layer in range(1, n_layers + 1):
        out += [f"w{layer}", f"b{layer}"]
    return out


def _file_name(name):
    """CSV name 'w2' -> safetensors name 'layers.1.weight'."""
    kind, layer = name[0], int(name[1:])
    return f"layers.{layer - 1}.{'weight' if kind == 'w' else 'bias'}"


def parse_freeze(text, n_layers):
    """'w1,3' -> {'w1', 'w3', 'b3'}; '', 'none' -> set()."""
    frozen = set()
    if text is None:
        return frozen
    for tok in text.split(","):
        tok = tok.strip().lower()
        if tok in ("", "none"):
            continue
        if tok.isdigit():
            layers = [int(tok)]
            names = [f"w{tok}", f"b{tok}"]
        elif tok[0] in "wb" and tok[1:].isdigit():
            layers = [int(tok[1:])]
            names = [tok]
        elif tok.startswith("layers."):
            parts = tok.split(".")
            layer = int(parts[1]) + 1
            layers = [layer]
            names = [("w" if parts[2] == "weight" else "b") + str(layer)]
        else:
            raise ValueError(f"freeze: cannot parse '{tok}'")
        if any(not 1 <= layer <= n_layers for layer in layers):
            raise ValueError(f"freeze: '{tok}' names no layer of 1..{n_layers}")
        frozen.update(names)
    return frozen


def _flag(text):
    return str(text).strip().lower() in ("1", "true", "yes", "on")


class RunSpec:
    """The resolved hyperparameters of a run (from config.ini)."""

    def __init__(self, cfg, n_samples):
        g = cfg.get
        self.widths = [int(w) for w in g("widths", "1,20,20,1").split(",")]
        self.n_layers = len(self.widths) - 1
        self.activation = g("activation", "relu").lower()
        self.optimizer = g("optimizer", "adam").lower()
        self.lr = float(g("lr", "1e-2"))
        self.beta1 = float(g("beta1", "0.9"))
        self.beta2 = float(g("beta2", "0.999"))
        self.eps = float(g("eps", "1e-8"))
        self.weight_decay = float(g("weight-decay", "0"))
        self.momentum = float(g("momentum", "0"))
        self.dampening = float(g("dampening", "0"))
        self.nesterov = _flag(g("nesterov", "0"))
        self.steps = int(g("steps", "10000"))
        self.lam = float(g("lambda", "0"))
        self.penalty = g("penalty", "l1").lower()
        self.reduction = g("penalty-reduction", "mean").lower()
        self.log_every = max(1, int(g("log-every", "1") or 1))
        self.frozen = parse_freeze(g("freeze", ""), self.n_layers)
        self.label_noise = float(g("label-noise", "0"))
        self.names = tensor_names(self.n_layers)

        # What the reference does not implement is refused, not approximated.
        if self.penalty not in ("none", "l1"):
            raise NotImplementedError(f"penalty '{self.penalty}'")
        if self.reduction not in ("mean", "sum", "sqrt"):
            raise NotImplementedError(f"penalty-reduction '{self.reduction}'")
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise NotImplementedError(f"optimizer '{self.optimizer}'")
        if self.activation not in ACTIVATIONS:
            raise NotImplementedError(f"activation '{self.activation}'")
        if g("loss", "mse").lower() != "mse":
            raise NotImplementedError(f"loss '{g('loss')}'")
        if _flag(g("prox", "0")):
            raise NotImplementedError("prox")
        if _flag(g("online", "0")):
            raise NotImplementedError("online (fresh inputs every step)")
        for key in ("batch-size", "batch"):
            b = g(key, "").lower()
            if b not in ("", "0", "full", "all") and int(b) < n_samples:
                raise NotImplementedError(f"{key} = {b} (only full batch)")

    @property
    def penalized(self):
        return self.penalty == "l1" and self.lam != 0.0


ACTIVATIONS = {
    "relu": torch.relu,
    "tanh": torch.tanh,
    "silu": torch.nn.functional.silu,
    "gelu": torch.nn.functional.gelu,  # exact (erf) form, PyTorch's default
    "linear": lambda h: h,
}


def load_run(run_dir, cfg_overrides=None):
    """Loads everything a run needs. Returns a dict with spec (RunSpec), cfg,
    init and teacher (dict name -> float32 array, teacher may be None), x, y."""
    cfg = read_config(os.path.join(run_dir, "config.ini"))
    cfg.update(cfg_overrides or {})
    x = np.load(os.path.join(run_dir, "x.npy")).astype(np.float32)
    y = np.load(os.path.join(run_dir, "y.npy")).astype(np.float32)
    if y.ndim == 1:
        y = y[:, None]
    spec = RunSpec(cfg, x.shape[0])

    def load(file):
        path = os.path.join(run_dir, file)
        if not os.path.exists(path):
            return None, {}
        raw, meta = read_safetensors(path)
        out = {}
        for i, name in enumerate(spec.names):
            layer = i // 2
            want = ((spec.widths[layer + 1], spec.widths[layer]) if name[0] == "w"
                    else (spec.widths[layer + 1],))
            arr = raw[_file_name(name)].astype(np.float32)
            if arr.shape != want:
                raise ValueError(f"{file}: {name}: expected {list(want)}, "
                                 f"file has {list(arr.shape)}")
            out[name] = arr
        return out, meta

    init, meta = load("student_init.safetensors")
    if init is None:
        raise FileNotFoundError(f"{run_dir}: no student_init.safetensors")
    if "widths" in meta and [int(w) for w in meta["widths"].split(",")] != spec.widths:
        raise ValueError(f"student_init widths {meta['widths']} != config {spec.widths}")
    if "activation" in meta and meta["activation"].lower() != spec.activation:
        raise ValueError(f"student_init activation {meta['activation']} != "
                         f"config {spec.activation}")
    teacher, _ = load("teacher.safetensors")
    if x.shape[1] != spec.widths[0] or y.shape[1] != spec.widths[-1] or \
            x.shape[0] != y.shape[0]:
        raise ValueError(f"x {x.shape} / y {y.shape} do not fit widths {spec.widths}")
    return {"spec": spec, "cfg": cfg, "init": init, "teacher": teacher,
            "x": x, "y": y}


def metric_columns(names, with_teacher):
    cols = ["step", "mse", "penalty", "loss"]
    cols += [f"d_init_{t}" for t in names]
    if with_teacher:
        cols += [f"d_teacher_{t}" for t in names]
    cols += [f"changed_{t}" for t in names]
    return cols


# --------------------------------------------------------------------------
# Optimizers written out (torch.optim 1.13's single-tensor code path, same
# operation order, so variant "hand" is bit-identical to torch.optim)
# --------------------------------------------------------------------------

class HandAdam:
    def __init__(self, params, spec, decoupled, bias_correction=True):
        self.params = params
        self.s = spec
        self.decoupled = decoupled
        self.bias_correction = bias_correction
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    @torch.no_grad()
    def step(self, grads):
        s = self.s
        self.t += 1
        if self.bias_correction:
            step_size = s.lr / (1 - s.beta1 ** self.t)
            bc2_sqrt = math.sqrt(1 - s.beta2 ** self.t)
        else:
            step_size, bc2_sqrt = s.lr, 1.0
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            if self.decoupled:
                p.mul_(1 - s.lr * s.weight_decay)
            elif s.weight_decay != 0:
                g = g.add(p, alpha=s.weight_decay)
            m.mul_(s.beta1).add_(g, alpha=1 - s.beta1)
            v.mul_(s.beta2).addcmul_(g, g, value=1 - s.beta2)
            denom = (v.sqrt() / bc2_sqrt).add_(s.eps)
            p.addcdiv_(m, denom, value=-step_size)


class HandSGD:
    def __init__(self, params, spec):
        self.params = params
        self.s = spec
        self.buf = [None] * len(params)

    @torch.no_grad()
    def step(self, grads):
        s = self.s
        for i, (p, g) in enumerate(zip(self.params, grads)):
            if s.weight_decay != 0:
                g = g.add(p, alpha=s.weight_decay)
            if s.momentum != 0:
                if self.buf[i] is None:
                    self.buf[i] = g.clone()
                else:
                    self.buf[i].mul_(s.momentum).add_(g, alpha=1 - s.dampening)
                g = g.add(self.buf[i], alpha=s.momentum) if s.nesterov else self.buf[i]
            p.add_(g, alpha=-s.lr)


class TorchOptim:
    """torch.optim behind the same step(grads) interface."""

    def __init__(self, params, spec):
        s = spec
        if s.optimizer == "adam":
            self.opt = torch.optim.Adam(params, lr=s.lr, betas=(s.beta1, s.beta2),
                                        eps=s.eps, weight_decay=s.weight_decay)
        elif s.optimizer == "adamw":
            self.opt = torch.optim.AdamW(params, lr=s.lr, betas=(s.beta1, s.beta2),
                                         eps=s.eps, weight_decay=s.weight_decay)
        else:
            self.opt = torch.optim.SGD(params, lr=s.lr, momentum=s.momentum,
                                       dampening=s.dampening,
                                       weight_decay=s.weight_decay,
                                       nesterov=s.nesterov)
        self.params = params

    def step(self, grads):
        for p, g in zip(self.params, grads):
            p.grad = g
        self.opt.step()


def make_optimizer(params, spec, variant):
    if not params:
        return None
    if variant in (None, "rounding", "l1-sum-for-mean", "l1-sign0-one"):
        return TorchOptim(params, spec)
    if spec.optimizer == "sgd":
        return HandSGD(params, spec)
    return HandAdam(params, spec, decoupled=spec.optimizer == "adamw",
                    bias_correction=variant != "adam-no-bias-correction")


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------

def forward(params, x, n_layers, act):
    """params: list [w1, b1, w2, b2, ...]; returns the network output."""
    h = x
    for layer in range(n_layers):
        h = torch.nn.functional.linear(h, params[2 * layer], params[2 * layer + 1])
        if layer < n_layers - 1:
            h = act(h)
    return h


def train(run, variant=None, steps=None, log_every=None):
    """Repeats the run in PyTorch. Returns (columns, rows): rows is a float64
    array with one row per logged step, columns as in metrics.csv (the
    d_teacher_* columns only when the run has a teacher).

    mse is the float32 value of the forward pass at theta_k; penalty and the
    distances are evaluated in float64 from the float32 parameters."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant '{variant}' (expected one of "
                         f"{[v for v in VARIANTS if v]})")
    spec = run["spec"]
    steps = spec.steps if steps is None else steps
    log_every = spec.log_every if log_every is None else log_every
    act = ACTIVATIONS[spec.activation]
    names = spec.names
    x = torch.from_numpy(run["x"])
    y = torch.from_numpy(run["y"])
    if variant == "rounding":
        x, y = x.flip(0).contiguous(), y.flip(0).contiguous()

    params = [torch.tensor(run["init"][t], dtype=torch.float32) for t in names]
    theta0 = [p.clone() for p in params]
    theta0_64 = [p.double() for p in theta0]
    teacher_64 = ([torch.tensor(run["teacher"][t], dtype=torch.float64) for t in names]
                  if run["teacher"] is not None else None)
    trainable = [i for i, t in enumerate(names) if t not in spec.frozen]
    for i in trainable:
        params[i].requires_grad_(True)
    train_params = [params[i] for i in trainable]
    opt = make_optimizer(train_params, spec, variant)

    # Per-tensor penalty scale: l1 mean -> 1/n_t, sqrt -> 1/sqrt(n_t), sum -> 1.
    reduction = "sum" if variant == "l1-sum-for-mean" else spec.reduction

    def scale(i, red):
        n = params[i].numel()
        return 1.0 / n if red == "mean" else 1.0 / n ** 0.5 if red == "sqrt" else 1.0

    columns = metric_columns(names, teacher_64 is not None)
    rows = []
    for k in range(steps + 1):
        logged = k % log_every == 0 or k == steps
        yhat = forward(params, x, spec.n_layers, act)
        mse = ((yhat - y) ** 2).mean()
        if logged:
            with torch.no_grad():
                p64 = [p.detach().double() for p in params]
                d_abs = [(p - p0).abs() for p, p0 in zip(p64, theta0_64)]
                d_init = [float(d.mean()) for d in d_abs]
                pen = 0.0
                if spec.penalty == "l1":
                    pen = sum(float(d_abs[i].sum()) * scale(i, spec.reduction)
                              for i in trainable)
                row = [k, float(mse), pen, float(mse) + spec.lam * pen] + d_init
                if teacher_64 is not None:
                    row += [float((p - q).abs().mean()) for p, q in zip(p64, teacher_64)]
                row += [float(((p.detach() - p0).abs() > CHANGED_EPS).double().mean())
                        for p, p0 in zip(params, theta0)]
                rows.append(row)
        if k == steps or opt is None:
            if opt is None and k < steps:
                continue  # everything frozen: theta never changes
            break
        if variant == "rounding":
            # same math, other float32 rounding: mean as sum * (1/N), and
            # d|delta|/dtheta through autograd (abs' derivative at 0 is 0)
            loss = ((yhat - y) ** 2).sum() * (1.0 / yhat.numel())
            if spec.penalized:
                loss = loss + spec.lam * sum(
                    (params[i] - theta0[i]).abs().sum() * scale(i, reduction)
                    for i in trainable)
            grads = list(torch.autograd.grad(loss, train_params))
        else:
            grads = list(torch.autograd.grad(mse, train_params))
        if spec.penalized and variant == "l1-sign0-one":
            with torch.no_grad():
                for g, i in zip(grads, trainable):
                    d = params[i] - theta0[i]
                    g.add_(torch.where(d < 0, -1.0, 1.0), alpha=spec.lam * scale(i, reduction))
        elif spec.penalized and variant != "rounding":
            # g += lambda * sign(theta - theta0) * scale, sign(0) = 0
            with torch.no_grad():
                for g, i in zip(grads, trainable):
                    g.add_(torch.sign(params[i] - theta0[i]),
                           alpha=spec.lam * scale(i, reduction))
        opt.step(grads)
    return columns, np.array(rows, dtype=np.float64)


# --------------------------------------------------------------------------
# Self-test: a toy run directory written here, torch.optim vs hand-written
# --------------------------------------------------------------------------

def make_toy_run(run_dir, widths=(1, 20, 20, 1), activation="relu", n=1000,
                 seed=0, extra_cfg=None):
    """Writes a teacher-student run directory in sparsetune's formats: the
    student is the teacher with layer 2 re-drawn (the design's default)."""
    os.makedirs(run_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    n_layers = len(widths) - 1

    def draw():
        out = {}
        for layer in range(n_layers):
            bound = 1 / math.sqrt(widths[layer])
            out[f"layers.{layer}.weight"] = rng.uniform(
                -bound, bound, (widths[layer + 1], widths[layer])).astype(np.float32)
            out[f"layers.{layer}.bias"] = rng.uniform(
                -bound, bound, (widths[layer + 1],)).astype(np.float32)
        return out

    teacher = draw()
    student = dict(teacher)
    redraw = draw()
    mid = n_layers // 2
    for kind in ("weight", "bias"):
        student[f"layers.{mid}.{kind}"] = redraw[f"layers.{mid}.{kind}"]
    meta = {"widths": ",".join(map(str, widths)), "activation": activation}
    write_safetensors(os.path.join(run_dir, "teacher.safetensors"), teacher, meta)
    write_safetensors(os.path.join(run_dir, "student_init.safetensors"), student, meta)
    x = rng.standard_normal((n, widths[0])).astype(np.float32)
    names = tensor_names(n_layers)
    tparams = [torch.from_numpy(teacher[_file_name(t)]) for t in names]
    with torch.no_grad():
        y = forward(tparams, torch.from_numpy(x), n_layers, ACTIVATIONS[activation])
    np.save(os.path.join(run_dir, "x.npy"), x)
    np.save(os.path.join(run_dir, "y.npy"), y.numpy().astype(np.float32))
    cfg = {"widths": meta["widths"], "activation": activation, "optimizer": "adam",
           "lr": "0.01", "steps": "50", "lambda": "0", "penalty": "l1",
           "penalty-reduction": "mean", "freeze": "", "seed": str(seed),
           "log-every": "1"}
    cfg.update(extra_cfg or {})
    with open(os.path.join(run_dir, "config.ini"), "w") as f:
        f.write("# written by torch_ref.make_toy_run\n")
        for k, v in cfg.items():
            f.write(f"{k} = {v}\n")


def selftest():
    """Checks the parsers and that the hand-written optimizers reproduce
    torch.optim bit for bit; returns 0 on success."""
    failures = 0
    cases = [
        {},
        {"lambda": "1e-3"},
        {"lambda": "1e-3", "penalty-reduction": "sum", "freeze": "1"},
        {"optimizer": "adamw", "weight-decay": "0.01", "lambda": "1e-3"},
        {"optimizer": "adam", "weight-decay": "0.01"},
        {"optimizer": "sgd", "momentum": "0.9", "lambda": "1e-3"},
        {"optimizer": "sgd", "momentum": "0.9", "nesterov": "1", "log-every": "7"},
        {"optimizer": "sgd", "momentum": "0", "freeze": "w1,b3"},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for i, extra in enumerate(cases):
            d = os.path.join(tmp, f"run{i}")
            make_toy_run(d, widths=(3, 7, 5, 2) if i % 2 else (1, 20, 20, 1),
                         activation="tanh" if i % 2 else "relu", n=64, seed=i,
                         extra_cfg=extra)
            run = load_run(d)
            cols, ref = train(run)
            _, hand = train(run, variant="hand")
            _, wrong = train(run, variant="adam-no-bias-correction")
            same = np.array_equal(ref, hand)
            rows_ok = ref.shape[0] == len(set(range(0, 51, run["spec"].log_every)) | {50})
            frozen_ok = all(
                np.all(ref[:, cols.index(f"d_init_{t}")] == 0) for t in run["spec"].frozen)
            decreasing = ref[-1, 1] < ref[0, 1]
            differs = not np.array_equal(ref, wrong) or run["spec"].optimizer == "sgd"
            ok = same and frozen_ok and decreasing and differs and rows_ok
            failures += not ok
            print(f"selftest {i} {extra}: hand==torch.optim {same}, frozen ok "
                  f"{frozen_ok}, mse {ref[0, 1]:.4g} -> {ref[-1, 1]:.4g}, "
                  f"rows {ref.shape[0]} -> {'ok' if ok else 'FAIL'}")
        # safetensors round trip, including metadata
        path = os.path.join(tmp, "rt.safetensors")
        t = {"layers.0.weight": np.arange(6, dtype=np.float32).reshape(2, 3),
             "layers.0.bias": np.array([1.5, -2], dtype=np.float32)}
        write_safetensors(path, t, {"widths": "3,2", "activation": "relu"})
        back, meta = read_safetensors(path)
        rt = all(np.array_equal(back[k], t[k]) for k in t) and meta["widths"] == "3,2"
        failures += not rt
        print(f"selftest safetensors round trip: {'ok' if rt else 'FAIL'}")
        # CSV round trip
        cpath = os.path.join(tmp, "m.csv")
        write_metrics_csv(cpath, cols, ref)
        c2, r2 = read_metrics_csv(cpath)
        csv_ok = c2 == cols and np.allclose(r2, ref, rtol=1e-8, atol=0)
        failures += not csv_ok
        print(f"selftest csv round trip: {'ok' if csv_ok else 'FAIL'}")
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", nargs="?", help="sparsetune run directory (--save-data)")
    ap.add_argument("--out", help="CSV to write (default: stdout)")
    ap.add_argument("--variant", default=None, choices=[v for v in VARIANTS if v])
    ap.add_argument("--steps", type=int, help="override the config's steps")
    ap.add_argument("--selftest", action="store_true",
                    help="check parsers and hand-written optimizers on toy runs")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    if args.selftest:
        return selftest()
    if not args.run_dir:
        ap.error("RUN_DIR is required (or --selftest)")
    cols, rows = train(load_run(args.run_dir), variant=args.variant, steps=args.steps)
    if args.out:
        write_metrics_csv(args.out, cols, rows)
    else:
        print(",".join(cols))
        for r in rows:
            print(",".join(["%d" % r[0]] + ["%.9g" % v for v in r[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
