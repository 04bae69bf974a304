"""Channel and spatial attention (CBAM, Woo et al. 2018), used by LGB (Eq. 2) and SCEM (Eq. 8).

Each attention returns the *weights*, not the re-weighted features, so a caller can combine
them as the paper writes it (``P ⊗ CA(P) ⊗ SA(P)`` in SCEM, ``R ⊗ A`` in LGB).
"""
import torch
from torch import nn


class ChannelAttention(nn.Module):
    """CA(X) = σ(MLP(AvgPool(X)) + MLP(MaxPool(X))): (B, C, H, W) -> (B, C, 1, 1) weights in (0, 1).

    The MLP is two 1×1 convs with a bottleneck of ``max(c // reduction, 8)`` channels (CBAM's
    reduction 16; the floor keeps the narrow LAGNet-s layers from collapsing to 1 channel).
    """

    def __init__(self, c, reduction=16):
        super().__init__()
        hidden = max(c // reduction, 8)
        self.mlp = nn.Sequential(nn.Conv2d(c, hidden, 1, bias=False), nn.ReLU(), nn.Conv2d(hidden, c, 1, bias=False))

    def forward(self, x):
        return torch.sigmoid(self.mlp(x.mean((2, 3), keepdim=True)) + self.mlp(x.amax((2, 3), keepdim=True)))


class SpatialAttention(nn.Module):
    """SA(X) = σ(Conv_k×k([AvgPool_c(X); MaxPool_c(X)])): (B, C, H, W) -> (B, 1, H, W) weights in (0, 1).

    Pooling runs across channels, so the map says *where* to look; k = 7 as in CBAM.
    """

    def __init__(self, kernel_size=7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x):
        return torch.sigmoid(self.conv(torch.cat((x.mean(1, keepdim=True), x.amax(1, keepdim=True)), 1)))
