"""Swin's window multi-head self-attention (W-MSA / SW-MSA), V1 and V2, as torchvision computes it.

The map (channels-last) is padded on the bottom and right to whole windows,
optionally rolled up and left by ``shift`` (the shifted windows of odd blocks),
cut into ``window x window`` windows, and each window attends within itself.
A rolled map puts pieces of distant regions in one window: a mask of -100
keeps tokens of different regions from attending to each other.  As in
torchvision, the shift is dropped along a side the (padded) map does not
exceed the window on, and padded tokens take part in attention unmasked.

V1 (Liu et al., 2021) scales ``q`` by ``d^-1/2`` and adds a learned bias per
head and relative offset.  V2 (Liu et al., 2022) uses cosine similarity times
a learned per-head logit scale (at most 100), and makes the bias with a small
MLP from log-spaced relative coordinates, ``16 * sigmoid(...)``; its key bias
is held at zero.  The relative offsets depend on the window size only, so one
table serves every resolution.  Index and coordinate tables are computed in
``forward`` rather than kept as buffers: they are functions of the window size,
and exported blocks carry no buffers of their own.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from searchspace.attention_cost import cost_attention_matmuls, cost_token_linear
from searchspace.tally import Tally

# V2's continuous position bias MLP: hidden width, and the range log-spaced coordinates are scaled to.
POSITION_MLP_HIDDEN = 512


def relative_position_index(window: int, device: torch.device) -> torch.Tensor:
    """For each pair of tokens in a window, the row of its offset in a ``(2w-1)^2`` table (flattened, ``w^4``)."""
    side = torch.arange(window, device=device)
    coords = torch.stack(torch.meshgrid([side, side], indexing="ij")).flatten(1)
    offsets = coords[:, :, None] - coords[:, None, :] + window - 1  # 2, T, T: each in 0 .. 2w-2
    return (offsets[0] * (2 * window - 1) + offsets[1]).flatten()


def log_spaced_coordinates(window: int, device: torch.device) -> torch.Tensor:
    """V2's ``(1, 2w-1, 2w-1, 2)`` table of relative offsets, scaled to +-8 and log-spaced."""
    offsets = torch.arange(-(window - 1), window, dtype=torch.float32, device=device)
    table = torch.stack(torch.meshgrid([offsets, offsets], indexing="ij")).permute(1, 2, 0).unsqueeze(0)
    table = table / (window - 1) * 8
    return torch.sign(table) * torch.log2(torch.abs(table) + 1.0) / 3.0


def region_labels(size: int, window: int, shift: int, device: torch.device) -> torch.Tensor:
    """Which region of a rolled side each position came from: before the last window, the last window less the
    shift, the shift that wrapped around.  Unshifted (``shift`` 0), labels change only between windows."""
    index = torch.arange(size, device=device)
    return (index >= size - window).long() + (index >= size - shift).long()


def shifted_window_mask(height: int, width: int, window: int, shifts: tuple[int, int], like: torch.Tensor) -> torch.Tensor:
    """``(windows, T, T)``, of ``like``'s dtype: 0 where two tokens of a window come from one region of the map, else -100.

    -100 is torchvision's value (a literal here: TorchScript reads no float globals).
    """
    rows = region_labels(height, window, shifts[0], like.device)
    columns = region_labels(width, window, shifts[1], like.device)
    labels = partition_windows((rows[:, None] * 3 + columns[None, :])[None, :, :, None], window).squeeze(-1)
    different = labels[:, None, :] != labels[:, :, None]
    return torch.zeros(different.shape, dtype=like.dtype, device=like.device).masked_fill(different, -100.0)


def partition_windows(x: torch.Tensor, window: int) -> torch.Tensor:
    """``(B, H, W, C)`` -> ``(B * windows, window * window, C)``, windows in row-major order."""
    batch, height, width, channels = x.shape[0], x.shape[1], x.shape[2], x.shape[3]
    x = x.view(batch, height // window, window, width // window, window, channels)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window * window, channels)


def merge_windows(x: torch.Tensor, window: int, batch: int, height: int, width: int) -> torch.Tensor:
    """The inverse of :func:`partition_windows`."""
    x = x.view(batch, height // window, width // window, window, window, x.shape[-1])
    return x.permute(0, 1, 3, 2, 4, 5).reshape(batch, height, width, -1)


def padded(size: int, window: int) -> int:
    # Non-negative operands only: traced for ONNX, integer division truncates instead of flooring.
    return (size + window - 1) // window * window


class KeyBiasFreeLinear(nn.Linear):
    """The ``q, k, v`` projection of Swin V2: a bias for queries and values, the keys' held at zero (torchvision's)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        third = self.out_features // 3
        assert self.bias is not None  # for TorchScript: the layer is made with a bias
        bias = torch.cat((self.bias[:third], torch.zeros_like(self.bias[third:2 * third]), self.bias[2 * third:]))
        return F.linear(x, self.weight, bias)


class WindowAttention(nn.Module):
    """Multi-head self-attention within (shifted) windows, on a channels-last map ``(B, H, W, C)``."""

    def __init__(self, channels: int, heads: int, window: int, shift: int, cosine: bool) -> None:
        super().__init__()
        offsets = (2 * window - 1) ** 2
        # Parameters first, then children: the order of torchvision's state dict.
        if cosine:
            self.logit_scale = nn.Parameter(torch.log(10 * torch.ones(heads, 1, 1)))
        else:
            self.relative_position_bias_table = nn.Parameter(nn.init.trunc_normal_(torch.zeros(offsets, heads), std=0.02))
        self.qkv = (KeyBiasFreeLinear if cosine else nn.Linear)(channels, 3 * channels)
        self.proj = nn.Linear(channels, channels)
        if cosine:
            self.cpb_mlp = nn.Sequential(nn.Linear(2, POSITION_MLP_HIDDEN), nn.ReLU(), nn.Linear(POSITION_MLP_HIDDEN, heads, bias=False))
        self.heads, self.window, self.shift = heads, window, shift

    def position_bias(self, device: torch.device) -> torch.Tensor:
        """``(1, heads, T, T)``: the learned bias of each head for each pair of tokens in a window."""
        tokens = self.window * self.window
        if hasattr(self, "cpb_mlp"):  # V2 (hasattr: TorchScript compiles only the branch whose modules exist)
            table = 16 * torch.sigmoid(self.cpb_mlp(log_spaced_coordinates(self.window, device)).view(-1, self.heads))
        else:
            table = self.relative_position_bias_table
        bias = table[relative_position_index(self.window, device)].view(tokens, tokens, -1)
        return bias.permute(2, 0, 1).unsqueeze(0)

    def logits(self, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        if hasattr(self, "logit_scale"):
            scale = torch.clamp(self.logit_scale, max=math.log(100.0)).exp()  # logits scaled by at most 100
            return F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1) * scale
        return (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)

    def attend(self, windows: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """Attention within each of ``(B * nW, T, C)`` windows; ``mask`` is ``(nW, T, T)`` or None."""
        count, tokens, channels = windows.shape[0], windows.shape[1], windows.shape[2]
        qkv = self.qkv(windows).reshape(count, tokens, 3, self.heads, channels // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = self.logits(q, k) + self.position_bias(windows.device)
        if mask is not None:
            attn = (attn.view(-1, mask.shape[0], self.heads, tokens, tokens) + mask[None, :, None]).view(count, self.heads, tokens, tokens)
        out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(count, tokens, channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, height, width, window = x.shape[0], x.shape[1], x.shape[2], self.window
        x = F.pad(x, (0, 0, 0, padded(width, window) - width, 0, padded(height, window) - height))
        padded_height, padded_width = x.shape[1], x.shape[2]
        shifts = (self.shift if padded_height > window else 0, self.shift if padded_width > window else 0)
        shifted = shifts[0] > 0 or shifts[1] > 0
        mask: torch.Tensor | None = None
        if shifted:
            x = torch.roll(x, shifts=(-shifts[0], -shifts[1]), dims=(1, 2))
            mask = shifted_window_mask(padded_height, padded_width, window, shifts, x)
        x = merge_windows(self.attend(partition_windows(x, window), mask), window, batch, padded_height, padded_width)
        if shifted:
            x = torch.roll(x, shifts=shifts, dims=(1, 2))
        return x[:, :height, :width, :].contiguous()


def cost_window_attention(tally: Tally, heads: int, window: int, cosine: bool) -> Tally:
    """What :class:`WindowAttention` counts on the tally's map, in the order it runs (the tally keeps its shape)."""
    channels, tokens = tally.channels, window**2
    windowed = padded(tally.height, window) * padded(tally.width, window)
    offsets = (2 * window - 1) ** 2
    if cosine:
        tally.layer("logit_scale", params=heads)
    else:
        tally.layer("position_bias_table", params=offsets * heads)
    cost_token_linear(tally, windowed, 3 * channels)
    if cosine:
        cost_token_linear(tally, offsets, POSITION_MLP_HIDDEN, in_features=2)
        cost_token_linear(tally, offsets, heads, in_features=POSITION_MLP_HIDDEN, bias=False)
    cost_attention_matmuls(tally, windowed, tokens, channels)
    return cost_token_linear(tally, windowed, channels)
