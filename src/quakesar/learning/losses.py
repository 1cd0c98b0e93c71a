"""Losses: pairwise margin ranking within a batch, and the magnitude loss ``L = MSE + lambda * MR``.

The ranking term follows Rege Cambrin, Corley, Garza & Najafirad (2024, "Earthquake monitoring by
ranking"), who add a margin-ranking loss to the regression loss. Their pairing (the shuffled batch
split in half, ``i`` with ``i + B/2``, ties forced to target +1) has two defects that are fixed here:

* **every** ordered pair ``i < j`` of the batch is used, so an odd batch loses no sample and a
  batch of one simply has no pair (the ranking term is then exactly 0, with a gradient graph, so
  the step still runs);
* **ties** (``|y_i - y_j| <= tie_tolerance``) carry no order information and are excluded, instead
  of being forced to +1 (which pushes tied predictions apart in one arbitrary direction).

For a pair with ``s = sign(y_i - y_j)`` the loss is ``max(0, margin - s * (p_i - p_j))``
(``torch.nn.MarginRankingLoss``); the term is averaged over the non-tied pairs.

With ``groups`` (the event of each patch) pairs of the same group are excluded: two patches of one
earthquake share its magnitude (a tie anyway) and, when the magnitude is known only per event, ranking
them would teach nothing; the gated model ranks signal-bearing patches of *different* events only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def pairwise_margin_ranking(pred: torch.Tensor, target: torch.Tensor, margin: float, tie_tolerance: float = 0.0,
                            groups: torch.Tensor | None = None) -> torch.Tensor:
    """Mean margin-ranking loss over all non-tied pairs of a batch (0 when there is none).

    ``pred`` and ``target`` are 1-D tensors of the same length (or ``[B, 1]``) in the same units as
    ``margin`` and ``tie_tolerance``.
    """
    p = pred.reshape(-1)
    y = target.reshape(-1).to(p.dtype)
    if p.shape != y.shape:
        raise ValueError(f"pairwise_margin_ranking: pred has {p.numel()} values, target {y.numel()}")
    if margin < 0:
        raise ValueError(f"pairwise_margin_ranking: margin must be >= 0, got {margin}")
    n = p.numel()
    if n < 2:
        return p.sum() * 0.0
    i, j = torch.triu_indices(n, n, offset=1, device=p.device)
    dy = y[i] - y[j]
    keep = dy.abs() > tie_tolerance
    if groups is not None:
        g = groups.reshape(-1).to(p.device)
        if g.numel() != n:
            raise ValueError(f"pairwise_margin_ranking: {g.numel()} groups for {n} predictions")
        keep &= g[i] != g[j]
    if not bool(keep.any()):
        return p.sum() * 0.0
    sign = torch.sign(dy[keep])
    dp = p[i][keep] - p[j][keep]
    return torch.clamp(margin - sign * dp, min=0.0).mean()


def magnitude_loss(pred: torch.Tensor, target: torch.Tensor, ranking_lambda: float, margin: float, tie_tolerance: float = 0.0,
                   groups: torch.Tensor | None = None) -> tuple[torch.Tensor, dict[str, float]]:
    """``L = MSE(pred, target) + lambda * MR(pred, target)``; lambda = 0 is plain regression.

    Returns the loss and its parts (floats, for logging). All arguments in one unit system (the
    trainer uses standardised magnitudes and converts ``margin`` by the training std).
    """
    if ranking_lambda < 0:
        raise ValueError(f"magnitude_loss: ranking_lambda must be >= 0, got {ranking_lambda}")
    mse = F.mse_loss(pred.reshape(-1), target.reshape(-1).to(pred.dtype))
    if ranking_lambda == 0:
        return mse, {"mse": float(mse.detach()), "ranking": 0.0}
    mr = pairwise_margin_ranking(pred, target, margin, tie_tolerance, groups)
    return mse + ranking_lambda * mr, {"mse": float(mse.detach()), "ranking": float(mr.detach())}
