"""Size of a model config: parameters, GFLOPs, input channels, strides (one CPU forward pass)."""
from copy import deepcopy

import torch

from .paths import find_file


def summarize(cfg, imgsz=640, nc=None):
    """Return the summary dict of ``cfg`` built with ``nc`` classes, after one forward pass at ``imgsz``."""
    import thop
    from yolov5.models.yolo import Model
    model = Model(str(find_file(cfg, 'models')), nc=nc).eval()
    ch = model.yaml.get('ch', 3)
    im = torch.zeros(1, ch, imgsz, imgsz)
    with torch.no_grad():
        model(im)
        macs = thop.profile(deepcopy(model), inputs=(im,), verbose=False)[0]
    return {
        'cfg': str(cfg),
        'params': sum(p.numel() for p in model.parameters()),
        'gflops': round(2 * macs / 1e9, 2),
        'input_channels': ch,
        'strides': [int(s) for s in model.stride],
    }
