"""LAGNet with its guide inside: one model, RGB image in, detections out (so it exports to ONNX / TorchScript).

    x (B, 3, H, W) RGB in [0, 1], letterboxed like any YOLOv5 input
    M = max_s Up(255 · max_a σ(o_s))             Eq. 1 from the frozen guide's objectness logits  (B, H, W)
    LAM = round(α · 255x + β · JET(round M)) / 255   the colour map as a 256-entry lookup, the blend of gen_lam.py
    LAGNet([x, LAM])                             (B, 6, H, W) -> stock Detect output

``gen_lam.py`` computes the same map on the image letterboxed to the guide's size, cuts the padding and resizes it
to the image's own size; the loader then pads image and LAM alike with grey 114. Here the guide sees the LAGNet
input itself, and the letterbox padding (whole grey-114 rows and columns running in from an edge) gets the LAM the
loader gives it: grey 114, the image itself. LAGNet is not indifferent to this: with the guide's map blended into
the padding, a LAGNet-s validated at 160 px on 128 px images fell from 54.5 to 25.4 mAP@0.5. Inside the image the
two LAMs agree up to resampling and uint8 rounding.
"""
import numpy as np
import torch
from torch import nn

from .data.lam import colormap_table


class ObjectnessHead(nn.Module):
    """Stands in for the guide's Detect: the raw objectness logits of each scale, [(B, na, H_s, W_s)].

    Stock YOLOv5 export switches every Detect to its export output (decoded boxes only); the guide must keep giving
    its raw objectness, so it is not a Detect.
    """

    def __init__(self, detect):
        super().__init__()
        self.m, self.na, self.no = detect.m, detect.na, detect.no
        self.f, self.i, self.type, self.np = detect.f, detect.i, 'ObjectnessHead', detect.np

    def forward(self, x):
        out = []
        for conv, feature in zip(self.m, x):
            y = conv(feature)
            b, _, h, w = y.shape
            out.append(y.view(b, self.na, self.no, h, w)[:, :, 4])
        return out


class GuidedLAGNet(nn.Module):
    """A frozen guide YOLOv5 and a LAGNet as one module with stock YOLOv5's model interface (stride, names, yaml,
    fuse, Detect output); input: RGB (B, 3, H, W) in [0, 1]."""

    def __init__(self, guide, lagnet, alpha=0.5, beta=0.5, colormap='jet', score='obj'):
        super().__init__()
        if score != 'obj':
            raise ValueError("the guided model computes the LAM from objectness (--score obj) only")
        guide = guide.float().eval()
        guide.model[-1] = ObjectnessHead(guide.model[-1])
        for p in guide.parameters():
            p.requires_grad_(False)
        self.guide, self.lagnet = guide, lagnet
        self.alpha, self.beta = float(alpha), float(beta)
        self.register_buffer('table', torch.from_numpy(colormap_table(colormap)[:, ::-1].astype(np.float32).copy()))  # RGB
        self.stride, self.names, self.nc = lagnet.stride, lagnet.names, lagnet.model[-1].nc
        self.yaml = {**lagnet.yaml, 'ch': 3}  # what this module takes: the RGB image alone

    def train(self, mode=True):
        super().train(mode)
        self.guide.eval()  # frozen: BatchNorm statistics stay the guide's own
        return self

    def location_map(self, x):
        """Eq. 1 on ``x`` (in the guide's precision): (B, H, W) float32 in [0, 255]."""
        size = x.shape[2:]
        maps = [nn.functional.interpolate(o.float().sigmoid().amax(1, keepdim=True) * 255, size=size, mode='bilinear',
                                          align_corners=False) for o in self.guide(x)]
        return torch.cat(maps, 1).amax(1)

    @staticmethod
    def letterbox_padding(x):
        """(B, 1, H, W) bool: letterbox padding, i.e. rows and columns of grey 114 running in from an image edge."""
        grey = ((x * 255 - 114).abs() < 0.5).all(1)  # (B, H, W)

        def from_an_edge(line):  # (B, N) -> True where ``line`` holds all the way from the start or the end
            other = (~line).float()
            return (other.cumsum(1) == 0) | (other.flip(1).cumsum(1).flip(1) == 0)

        return (from_an_edge(grey.all(2))[:, :, None] | from_an_edge(grey.all(1))[:, None, :])[:, None]

    def lam(self, x):
        """The LAM image (B, 3, H, W) in [0, 1], as gen_lam.py writes it (uint8 steps) and the loader pads it."""
        with torch.no_grad():
            index = self.location_map(x).clamp(0, 255).round().long()
            x = x.float()  # the guide ran in the model's precision (export --half); the blend is gen_lam.py's, float32
            heat = self.table[index].permute(0, 3, 1, 2)  # (B, 3, H, W), RGB in [0, 255]
            lam = (self.alpha * 255 * x + self.beta * heat).round().clamp(0, 255) / 255
            lam = torch.where(self.letterbox_padding(x), x, lam)
        return lam

    def forward(self, x, *args, **kwargs):
        return self.lagnet(torch.cat((x, self.lam(x).to(x.dtype)), 1), *args, **kwargs)

    def fuse(self):
        self.guide.fuse()
        self.lagnet.fuse()
        return self
