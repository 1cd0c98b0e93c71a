"""Model zoo: a CPU-sized CNN and timm backbones with adapted input channels and image size.

* ``smallcnn``: four conv-BN-ReLU blocks (16-32-64-128 channels, stride-2 pooling), global average
  pooling and a linear head; ~0.1 M parameters, trains on a CPU in minutes at 32 px.
* timm ``resnet18``, ``resnet50``, ``convnext_tiny``, ``vit_base_patch16_224`` (He et al. 2016;
  Liu et al. 2022; Dosovitskiy et al. 2021), built with ``pretrained=False`` (timm never touches the
  network) and ``in_chans`` = the dataset's channel count (coherence, i, q, optionally the two
  lat/lon planes). The ViT's ``img_size`` is the patch size rounded up to a multiple of its 16-px
  token size; inputs are zero-padded to it.
* Pretrained weights only from a **local file** (``train.pretrained: {model: path}``): the file's
  state dict is adapted (first conv summed/repeated over channels with timm's ``adapt_input_conv``,
  ViT position embeddings resampled to the token grid, the classifier head dropped) and loaded.
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


class SmallCNN(nn.Module):
    """Four conv blocks and a linear head; any input size >= 1 px (adaptive pooling)."""

    def __init__(self, in_chans: int, num_outputs: int, widths: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = in_chans
        for k, w in enumerate(widths):
            layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
            if k < len(widths) - 1:
                layers.append(nn.MaxPool2d(2, ceil_mode=True))
            c = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, num_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.adaptive_avg_pool2d(self.features(x), 1).flatten(1))


class PadToMultiple(nn.Module):
    """Zero-pad the input (right/bottom) to a multiple of ``multiple`` pixels, then run ``inner``."""

    def __init__(self, inner: nn.Module, multiple: int) -> None:
        super().__init__()
        self.inner = inner
        self.multiple = multiple

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph))
        return self.inner(x)


def build_model(name: str, in_chans: int, num_outputs: int, img_size: int, pretrained_path: str | Path | None = None) -> nn.Module:
    """Build model ``name`` for ``in_chans`` x ``img_size`` x ``img_size`` inputs and ``num_outputs`` outputs.

    ``pretrained_path``: a local state-dict file (``.pt``/``.pth``/``.bin`` via ``torch.load``, or
    ``.safetensors``), adapted to the channels/size; never a hub download.
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    if in_chans < 1 or num_outputs < 1 or img_size < 1:
        raise ValueError(f"build_model({name}): in_chans, num_outputs, img_size must be >= 1, got {in_chans}, {num_outputs}, {img_size}")
    if name == "smallcnn":
        model: nn.Module = SmallCNN(in_chans, num_outputs)
        if pretrained_path:
            _load_adapted(model, pretrained_path, first_conv="features.0", classifier="head")
        return model
    import timm

    kwargs: dict = {}
    if name.startswith("vit_"):
        kwargs["img_size"] = max(VIT_TOKEN, math.ceil(img_size / VIT_TOKEN) * VIT_TOKEN)
    inner = timm.create_model(name, pretrained=False, in_chans=in_chans, num_classes=num_outputs, **kwargs)
    if pretrained_path:
        cfg = inner.pretrained_cfg
        _load_adapted(inner, pretrained_path, first_conv=cfg["first_conv"], classifier=cfg["classifier"])
    if name.startswith("vit_"):
        return PadToMultiple(inner, VIT_TOKEN)
    return inner


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
