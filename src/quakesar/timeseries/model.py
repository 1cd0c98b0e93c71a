"""Spatio-temporal convolutional auto-encoder: a series of N LOS maps + DEM -> cumulative deformation + score.

Taken from Rouet-Leduc et al. (2021, Nat. Commun. 12:6480, "Autonomous extraction of millimeter-scale
deformation in InSAR time series using deep learning"): the idea of a deep convolutional auto-encoder
that sees the whole time series of displacement maps *and the topography* (so that it can learn the
topography-correlated delay), is trained only on synthetic series of dislocation signals under
turbulent and stratified atmosphere, and outputs one denoised deformation map.

Where this model differs, and why (their exact layer configuration is not reproduced: no public code):

* **Temporal front end** of ``temporal_layers`` 3-D convolutions (kernel 3 in time and space; one by
  default, for CPU speed: 33 ms per 64 x 64 x 11 sample and training step on one core), then
  the per-date features are stacked as channels: a fixed number of dates ``N`` per window (real stacks
  are cut into windows of N dates, :func:`quakesar.timeseries.predict.predict_stack`).
* **Step-filter bank** (``step_features``, optional, off by default: no gain at 64 px, docs/timeseries.md): the pre/post mean difference for every candidate date
  (:func:`step_bank`) as extra channels, so the network starts from the plain stack of each possible event
  date instead of having to learn those averages (it is never told the date).
* **U-Net skips** (Ronneberger et al. 2015) between the encoder and the decoder so the near-field of
  shallow events keeps its sharp gradients at 100 m pixels.
* **Detection head** (issue 15): a logit from the bottleneck's global mean and max, trained with BCE on
  "peak |LOS| >= label threshold", so a detection limit at a fixed false-alarm rate can be measured.
* **GroupNorm** (Wu & He 2018) rather than batch statistics, so that a tile's output does not depend on
  the other tiles of its batch (the same at training, evaluation and on real stacks).
* Input referencing and scaling are explicit (:mod:`quakesar.timeseries.tensors`); the output is
  mean-removed, because a series is only known up to a constant per date.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn


def _norm(c: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, c), c)


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), _norm(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1), _norm(cout), nn.ReLU(inplace=True))


def step_bank(series: torch.Tensor) -> torch.Tensor:
    """``[B, N-1, H, W]``: for each candidate step date k = 1..N-1, ``mean(ts[k:]) - mean(ts[:k])``.

    The least-squares step amplitude at date k under independent per-date noise, i.e. the plain stack of
    :mod:`quakesar.timeseries.baselines` for every possible event date; computed from the input alone, so the
    network starts from the stack without being told the date.
    """
    n = series.shape[1]
    c = torch.cumsum(series, dim=1)
    total = c[:, -1:]
    k = torch.arange(1, n, device=series.device, dtype=series.dtype).view(1, -1, 1, 1)
    before = c[:, :-1]
    return (total - before) / (n - k) - before / k


class SeriesAutoencoder(nn.Module):
    """``forward(x [B, 1, N, H, W], dem [B, 1, H, W]) -> (deformation [B, H, W], logit [B])``.

    H and W must be multiples of ``2 ** (len(channels) - 1)``. Units: those of
    :mod:`quakesar.timeseries.tensors` (1 cm).
    """

    def __init__(self, n_dates: int, temporal_channels: int = 4, channels: Sequence[int] = (16, 32, 64),
                 temporal_layers: int = 1, step_features: bool = False) -> None:
        super().__init__()
        self.n_dates = int(n_dates)
        self.step_features = bool(step_features)
        tc = int(temporal_channels)
        layers: list[nn.Module] = []
        for i in range(int(temporal_layers)):
            layers += [nn.Conv3d(1 if i == 0 else tc, tc, 3, padding=1), nn.GroupNorm(min(4, tc), tc), nn.ReLU(inplace=True)]
        self.temporal = nn.Sequential(*layers)
        chans = [int(c) for c in channels]
        self.down = nn.ModuleList()
        cin = tc * self.n_dates + 1 + (self.n_dates - 1 if self.step_features else 0)
        for c in chans:
            self.down.append(_double_conv(cin, c))
            cin = c
        self.up = nn.ModuleList(_double_conv(chans[i + 1] + chans[i], chans[i]) for i in reversed(range(len(chans) - 1)))
        self.head = nn.Conv2d(chans[0], 1, 1)
        self.detect = nn.Sequential(nn.Linear(2 * chans[-1] + 1, 32), nn.ReLU(inplace=True), nn.Linear(32, 1))
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor, dem: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, n, h, w = x.shape
        if n != self.n_dates:
            raise ValueError(f"SeriesAutoencoder: expected {self.n_dates} dates, got {n}")
        f = self.temporal(x).reshape(b, -1, h, w)
        parts = [f, dem]
        if self.step_features:
            parts.append(step_bank(x[:, 0]))
        f = torch.cat(parts, dim=1)
        skips = []
        for i, block in enumerate(self.down):
            if i:
                f = self.pool(f)
            f = block(f)
            skips.append(f)
        bottleneck = f
        for block, skip in zip(self.up, reversed(skips[:-1])):
            f = nn.functional.interpolate(f, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            f = block(torch.cat([f, skip], dim=1))
        out = self.head(f)[:, 0]
        out = out - out.mean(dim=(-2, -1), keepdim=True)
        peak = out.abs().amax(dim=(-2, -1))[:, None]
        g = torch.cat([bottleneck.mean(dim=(-2, -1)), bottleneck.amax(dim=(-2, -1)), peak], dim=1)
        return out, self.detect(g)[:, 0]
