"""Strip Context Enhancement Module (SCEM), paper Eq. 6-10."""
import torch
from torch import nn
from yolov5.models.common import Conv

from .attention import ChannelAttention, SpatialAttention


class StripBranch(nn.Module):
    """One direction of SCEM (Eq. 6-8): n depthwise strip convs, then X ⊗ CA(X) ⊗ SA(X), then a pointwise conv.

    ``horizontal=True`` uses 1×k kernels (long along the width), otherwise k×1.
    Each strip conv is a depthwise conv-BN-SiLU (YOLOv5's Conv with groups=c) — the paper does not
    name the norm/activation; we use the neck's own. (B, c, H, W) -> (B, c, H, W).
    """

    def __init__(self, c, k=5, n=2, horizontal=True):
        super().__init__()
        kernel, pad = ((1, k), (0, k // 2)) if horizontal else ((k, 1), (k // 2, 0))
        self.strips = nn.Sequential(*(DepthwiseStrip(c, kernel, pad) for _ in range(n)))
        self.channel_attention = ChannelAttention(c)
        self.spatial_attention = SpatialAttention()
        self.pointwise = Conv(c, c, 1)

    def forward(self, x):
        x = self.strips(x)
        return self.pointwise(x * self.channel_attention(x) * self.spatial_attention(x))


class DepthwiseStrip(nn.Module):
    """Depthwise strip conv-BN-SiLU with a non-square kernel: (B, c, H, W) -> (B, c, H, W)."""

    def __init__(self, c, kernel, padding):
        super().__init__()
        self.conv = nn.Conv2d(c, c, kernel, padding=padding, groups=c, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class SCEM(nn.Module):
    """Strip context enhancement for a neck output P (Eq. 6-10).

        S^h = PW(P^h ⊗ CA(P^h) ⊗ SA(P^h)),  P^h = DW_{1×k}^n(P)     (Eq. 6, 8)
        S^v = PW(P^v ⊗ CA(P^v) ⊗ SA(P^v)),  P^v = DW_{k×1}^n(P)     (Eq. 7, 8)
        Y   = Conv1×1(Conv1×1(S^h ⊗ S^v) + P)                       (Eq. 9-10)

    Strip kernels see k pixels along one axis and, stacked n deep, n·(k−1)+1 pixels: long thin
    context for scratches without a k×k cost. YAML args: ``[k, n, merge, identity]`` (defaults 5, 2, product,
    False: Eq. 9-10 as written). Two readings outside the equations, for the ablations of issue 11:
    ``merge=sum`` adds S^h + S^v (a defect long in one direction and thin in the other answers one branch only,
    which a product silences); ``identity=True`` gives Detect an identity path, Y = P + Conv1×1(Conv1×1(S)).
    (B, c, H, W) -> (B, c, H, W); output channels equal input channels.
    """

    MERGES = {'product': torch.mul, 'sum': torch.add}
    merge, identity = 'product', False  # what checkpoints saved before these args existed unpickle to

    def __init__(self, c1, k=5, n=2, merge='product', identity=False):
        super().__init__()
        if k < 1 or k % 2 == 0 or n < 1:
            raise ValueError(f'SCEM needs an odd strip length k >= 1 and depth n >= 1, got k={k}, n={n}')
        if merge not in self.MERGES:
            raise ValueError(f'SCEM merge must be one of {", ".join(self.MERGES)}, got {merge!r}')
        if not isinstance(identity, bool):
            raise ValueError(f'SCEM identity must be True or False, got {identity!r}')
        self.merge, self.identity = merge, identity
        self.horizontal = StripBranch(c1, k, n, horizontal=True)
        self.vertical = StripBranch(c1, k, n, horizontal=False)
        self.mix = Conv(c1, c1, 1)
        self.out = Conv(c1, c1, 1)

    def forward(self, x):
        s = self.mix(self.MERGES[self.merge](self.horizontal(x), self.vertical(x)))
        return x + self.out(s) if self.identity else self.out(s + x)
