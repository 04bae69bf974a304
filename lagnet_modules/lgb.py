"""Location Guidance Block (LGB), paper Eq. 2-3."""
from torch import nn
from yolov5.models.common import Conv

from .attention import SpatialAttention


class LGB(nn.Module):
    """Fuse an RGB feature R and a LAM feature L of one stride into C.

        D = R − L                      (Eq. 2)  where the two modalities disagree
        A = SA(D)                      (Eq. 2)  (B, 1, H, W) spatial weights
        C = Conv1×1(R ⊗ A ⊕ L ⊗ A)     (Eq. 3)

    Reading of the paper: ⊕ is element-wise addition (the brief writes ``R⊗A + L⊗A``; a concat
    would double the 1×1 conv for no stated gain), and Conv1×1 is YOLOv5's Conv (conv-BN-SiLU) so
    the fused map enters the neck like any CSPDarkNet stage output.

    Input: ``[R, L]``, both (B, c1, H, W). Output: (B, c2, H, W).
    """

    def __init__(self, c1, c2):
        super().__init__()
        self.attention = SpatialAttention()
        self.fuse = Conv(c1, c2, 1)

    def forward(self, x):
        rgb, lam = x
        if rgb.shape != lam.shape:
            raise ValueError(f'LGB (model layer {getattr(self, "i", "?")}, from {getattr(self, "f", "?")}): RGB and '
                             f'LAM features must have one shape, got {tuple(rgb.shape)} and {tuple(lam.shape)}; '
                             'tap both branches at the same stride and width')
        a = self.attention(rgb - lam)
        return self.fuse(rgb * a + lam * a)
