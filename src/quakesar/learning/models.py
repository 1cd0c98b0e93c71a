"""Models: feature extractors (a CPU-sized CNN and timm backbones) and the gated multi-task patch network.

Backbones (``train.models``), all producing a feature *map* so that the heads can say where in the patch
the source is:

* ``smallcnn``: four conv-BN-ReLU blocks (16-32-64-128 channels) with 2x2 max pooling after the first two,
  so a 32-px patch gives an 8x8 map (stride 4); ~0.2 M parameters, trains on a CPU in minutes.
* timm ``resnet18``, ``resnet50`` (He et al. 2016), ``convnext_tiny`` (Liu et al. 2022) and
  ``vit_base_patch16_224`` (Dosovitskiy et al. 2021; ``img_size`` = the patch size rounded up to 16 px,
  zero-padded), built with ``pretrained=False`` (timm never touches the network) and ``in_chans`` = the
  input channels. The feature map is timm's ``forward_intermediates`` output of the deepest stage whose
  stride keeps at least a 4x4 grid (the layers after it are pruned).
* Pretrained weights only from a **local file** (``train.pretrained: {model: path}``): first conv adapted
  to the channel count (timm ``adapt_input_conv``), ViT position embeddings resampled, heads dropped.

:class:`PatchNet` (the gated multi-task patch model of issue 12):

* **CoordConv** input (Liu et al. 2018, "An intriguing failing of convolutional neural networks and the
  CoordConv solution"): two constant planes with the normalised column and row coordinate ``u, v`` in
  [-1, 1] are appended to the input, so that convolutions can encode absolute position.
* **Spatial soft-argmax** keypoints (Levine, Finn, Darrell & Abbeel 2016, "End-to-end training of deep
  visuomotor policies"): per feature channel, the expected ``(u, v)`` under the softmax of that channel's
  map; a coordinate-aware summary that a global average pool lacks.
* A shared trunk over [average-pooled features, keypoints, auxiliary geometry] and four heads: the
  signal (detection) logit, the epicentre offset ``(u, v)`` in the patch's image frame (normalised
  units, unbounded: the epicentre may lie outside the patch) with the log of its Laplace scale ``b``
  (heteroscedastic regression, Kendall & Gal 2017: a patch far from the source learns a large ``b`` and
  counts less in the event answer), the standardised moment magnitude with the log of its standard
  deviation (the same idea, Gaussian), and the trunk activation as the patch embedding used by the
  event-set model.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

TIMM_MODELS = ("resnet18", "resnet50", "convnext_tiny", "vit_base_patch16_224")
MODELS = ("smallcnn", *TIMM_MODELS)
VIT_TOKEN = 16
MIN_GRID = 4
LOG_B_MIN, LOG_B_MAX = -4.0, 3.0   # Laplace scale of the offset between 0.02 and 20 patch half-widths


class SmallCNN(nn.Module):
    """Four conv blocks; 2x2 max pooling after the first ``pools`` blocks; returns the feature map."""

    def __init__(self, in_chans: int, widths: tuple[int, ...] = (16, 32, 64, 128), pools: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_chans
        for k, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if k < pools:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            c = w
        self.features = nn.Sequential(*layers)
        self.out_channels = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


class TimmFeatures(nn.Module):
    """A timm model's intermediate feature map (see module docstring), padded for the ViT token size."""

    def __init__(self, name: str, in_chans: int, img_size: int, pretrained_path: str | Path | None = None) -> None:
        super().__init__()
        import timm

        kwargs: dict = {}
        self.pad = 1
        if name.startswith("vit_"):
            kwargs["img_size"] = max(VIT_TOKEN, math.ceil(img_size / VIT_TOKEN) * VIT_TOKEN)
            self.pad = VIT_TOKEN
        net = timm.create_model(name, pretrained=False, in_chans=in_chans, num_classes=0, **kwargs)
        if pretrained_path:
            cfg = net.pretrained_cfg
            _load_adapted(net, pretrained_path, first_conv=cfg["first_conv"], classifier=cfg["classifier"])
        info = net.feature_info
        reductions = [int(f["reduction"]) for f in info]
        ok = [k for k, r in enumerate(reductions) if img_size / r >= MIN_GRID]
        if ok:
            self.index = ok[-1]
        else:  # tiny input: the stage(s) of smallest stride, the deepest of them
            smallest = min(reductions)
            self.index = max(k for k, r in enumerate(reductions) if r == smallest)
        net.prune_intermediate_layers(indices=[self.index], prune_head=True)
        self.net = net
        self.out_channels = int(info[self.index]["num_chs"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.pad, (-w) % self.pad
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        return self.net.forward_intermediates(x, indices=[self.index], intermediates_only=True)[0]


def build_backbone(name: str, in_chans: int, img_size: int, pretrained_path: str | Path | None = None) -> nn.Module:
    """Feature extractor ``name`` for ``in_chans x img_size x img_size`` inputs (``.out_channels`` set)."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    if in_chans < 1 or img_size < 1:
        raise ValueError(f"build_backbone({name}): in_chans and img_size must be >= 1, got {in_chans}, {img_size}")
    if name == "smallcnn":
        net = SmallCNN(in_chans)
        if pretrained_path:
            _load_adapted(net, pretrained_path, first_conv="features.0", classifier=())
        return net
    return TimmFeatures(name, in_chans, img_size, pretrained_path)


def coord_planes(x: torch.Tensor) -> torch.Tensor:
    """``x`` with two CoordConv planes appended: column coordinate u and row coordinate v, pixel centres in [-1, 1]."""
    b, _, h, w = x.shape
    u = (torch.arange(w, device=x.device, dtype=x.dtype) + 0.5) * (2.0 / w) - 1.0
    v = (torch.arange(h, device=x.device, dtype=x.dtype) + 0.5) * (2.0 / h) - 1.0
    uu = u.view(1, 1, 1, w).expand(b, 1, h, w)
    vv = v.view(1, 1, h, 1).expand(b, 1, h, w)
    return torch.cat([x, uu, vv], dim=1)


def spatial_soft_argmax(f: torch.Tensor) -> torch.Tensor:
    """``[B, C, h, w]`` -> ``[B, 2C]``: per channel the expected (u, v) in [-1, 1] under softmax over the map."""
    b, c, h, w = f.shape
    p = torch.softmax(f.reshape(b, c, h * w).float(), dim=-1).reshape(b, c, h, w)
    u = (torch.arange(w, device=f.device, dtype=p.dtype) + 0.5) * (2.0 / w) - 1.0
    v = (torch.arange(h, device=f.device, dtype=p.dtype) + 0.5) * (2.0 / h) - 1.0
    eu = (p.sum(dim=2) * u).sum(dim=-1)
    ev = (p.sum(dim=3) * v).sum(dim=-1)
    return torch.cat([eu, ev], dim=1).to(f.dtype)


class PatchNet(nn.Module):
    """Gated multi-task patch model (module docstring): ``forward(x, aux) -> {logit, uv, mw, emb}``."""

    def __init__(self, backbone: str, in_chans: int, img_size: int, aux_dim: int = 1, hidden: int = 128,
                 pretrained_path: str | Path | None = None, dropout: float = 0.1) -> None:
        super().__init__()
        self.backbone_name = backbone
        self.backbone = build_backbone(backbone, in_chans + 2, img_size, pretrained_path)
        c = int(self.backbone.out_channels)
        self.trunk = nn.Sequential(nn.Linear(3 * c + aux_dim, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                                   nn.Linear(hidden, hidden), nn.ReLU(inplace=True))
        self.detect = nn.Linear(hidden, 1)
        self.offset = nn.Linear(hidden, 3)   # u, v and the log of the Laplace scale of both
        self.magnitude = nn.Linear(hidden, 2)   # standardised Mw and the log of its standard deviation
        self.embedding_dim = hidden

    def forward(self, x: torch.Tensor, aux: torch.Tensor) -> dict[str, torch.Tensor]:
        f = self.backbone(coord_planes(x))
        pooled = f.mean(dim=(2, 3))
        h = self.trunk(torch.cat([pooled, spatial_soft_argmax(f), aux.to(pooled.dtype)], dim=1))
        off, mag = self.offset(h), self.magnitude(h)
        return {"logit": self.detect(h)[:, 0], "uv": off[:, :2], "log_b": off[:, 2].clamp(LOG_B_MIN, LOG_B_MAX),
                "mw": mag[:, 0], "log_s": mag[:, 1].clamp(LOG_B_MIN, LOG_B_MAX), "emb": h}


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from a local file (unwrapping ``{"state_dict": ...}``/``{"model": ...}``)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"pretrained weights file {p} does not exist (train.pretrained must name local files; nothing is downloaded)")
    if p.suffix == ".safetensors":
        from safetensors.torch import load_file

        sd = load_file(str(p))
    else:
        sd = torch.load(p, map_location="cpu", weights_only=True)
    for key in ("state_dict", "model", "model_state"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"pretrained weights file {p}: expected a state dict of tensors")
    return sd


def _load_adapted(model: nn.Module, path: str | Path, first_conv: str, classifier: str | tuple[str, ...]) -> None:
    """Load a local state dict into ``model``, adapting input channels, position embedding and head."""
    from timm.layers import resample_abs_pos_embed
    from timm.models._manipulate import adapt_input_conv

    sd = dict(read_state_dict(path))
    own = model.state_dict()
    wkey = f"{first_conv}.weight"
    if wkey in sd and wkey in own and sd[wkey].shape[1] != own[wkey].shape[1]:
        sd[wkey] = adapt_input_conv(own[wkey].shape[1], sd[wkey].float())
    if "pos_embed" in sd and "pos_embed" in own and sd["pos_embed"].shape != own["pos_embed"].shape:
        prefix = getattr(model, "num_prefix_tokens", 1)
        grid = own["pos_embed"].shape[1] - prefix
        side = int(round(math.sqrt(grid)))
        sd["pos_embed"] = resample_abs_pos_embed(sd["pos_embed"], (side, side), num_prefix_tokens=prefix)
    heads = (classifier,) if isinstance(classifier, str) else tuple(classifier)
    for k in list(sd):
        if any(k == h or k.startswith(h + ".") for h in heads):
            del sd[k]
    bad = [k for k, v in sd.items() if k in own and v.shape != own[k].shape]
    if bad:
        raise ValueError(f"pretrained weights file {path}: shapes of {bad[:5]} do not match the model")
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not any(k == h or k.startswith(h + ".") for h in heads)]
    if missing or unexpected:
        raise ValueError(f"pretrained weights file {path}: missing keys {missing[:5]}, unexpected keys {list(unexpected)[:5]}")
