"""Location activation map (LAM), paper Eq. 1, from a trained stock YOLOv5 *guide*.

    M_s   = 255 · max_a σ(o_{s,a})            objectness of scale s, max over its anchors   (B, H_s, W_s)
    M     = max_s Resize(M_s)                 pixel-wise max over the three scales           (B, H, W)
    LAM   = α · image + β · ColorMap(M)       colour-coded and blended (α = β = 0.5)         (H0, W0, 3)

``score='conf'`` uses σ(o) · max_c σ(p_c) (objectness × best class probability) instead of σ(o).
Each scale's map is resized to the letterboxed input, the letterbox padding is cut away and the rest is
resized to the original image, so the map lies on the original pixels.
"""
import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

# 'gray' is the raw map in all three channels (issue 11, LAM encoding; with --alpha 0 --beta 1: the map alone).
COLORMAPS = {'jet': cv2.COLORMAP_JET, 'turbo': cv2.COLORMAP_TURBO, 'hot': cv2.COLORMAP_HOT,
             'viridis': cv2.COLORMAP_VIRIDIS, 'gray': None}


def colormap_table(name='jet'):
    """The colour code as a (256, 3) uint8 BGR lookup table: OpenCV's colour map, or the grey level itself."""
    levels = np.arange(256, dtype=np.uint8)[:, None]
    if name == 'gray':
        return np.repeat(levels, 3, axis=1)
    return cv2.applyColorMap(levels, COLORMAPS[name])[:, 0]


def scale_maps(head_outputs, score='obj'):
    """Raw Detect outputs [(B, na, H_s, W_s, 5 + nc)] -> [(B, H_s, W_s)] in [0, 255] (Eq. 1, per scale)."""
    if score not in ('obj', 'conf'):
        raise ValueError(f"score must be 'obj' or 'conf', got {score!r}")
    maps = []
    for x in head_outputs:
        s = x[..., 4].sigmoid()
        if score == 'conf':
            s = s * x[..., 5:].sigmoid().amax(-1)
        maps.append(s.amax(1) * 255)
    return maps


def location_map(head_outputs, input_hw, pad, resized_hw, original_hw, score='obj'):
    """Eq. 1 for a batch letterboxed alike: (B, H0, W0) float map in [0, 255] on the original pixels.

    input_hw: letterboxed input size; pad: (left, top) padding in pixels; resized_hw: the image's size inside
    the letterbox; original_hw: the image's size on disk.
    """
    merged = torch.stack([F.interpolate(m[:, None].float(), size=input_hw, mode='bilinear', align_corners=False)[:, 0]
                          for m in scale_maps(head_outputs, score)]).amax(0)
    (left, top), (h, w) = pad, resized_hw
    merged = merged[:, top:top + h, left:left + w]
    return F.interpolate(merged[:, None], size=original_hw, mode='bilinear', align_corners=False)[:, 0]


PAPER_BLEND = {'alpha': 0.5, 'beta': 0.5, 'colormap': 'jet'}


def blend(image_bgr, lam_map, alpha=PAPER_BLEND['alpha'], beta=PAPER_BLEND['beta'],
          colormap=PAPER_BLEND['colormap']):
    """LAM image: α · image + β · colour-coded map (uint8 BGR, the image's size)."""
    heat = colormap_table(colormap)[np.clip(lam_map, 0, 255).round().astype(np.uint8)]
    return cv2.addWeighted(image_bgr, alpha, heat, beta, 0)


def unblend(lam_bgr, image_bgr, alpha=PAPER_BLEND['alpha'], beta=PAPER_BLEND['beta'],
            colormap=PAPER_BLEND['colormap']):
    """The map M a LAM was made from, ``blend``'s inverse: the level whose colour is nearest to (LAM - α·image) / β.
    (..., 3) uint8 BGR LAM and image -> (...) levels in [0, 255]; off by a few levels where uint8 rounding in the blend
    blurs neighbouring colours."""
    heat = (lam_bgr.astype(np.float32) - alpha * image_bgr.astype(np.float32)) / beta
    table = colormap_table(colormap).astype(np.float32)
    distance = (table ** 2).sum(1) - 2 * heat @ table.T  # |heat - colour|² less |heat|², the same for every colour
    return distance.argmin(-1)


def blend_of(manifest):
    """The ``blend`` arguments (alpha, beta, colormap) the LAMs of ``manifest`` (a manifest.json path) were made with;
    the paper's where there is no manifest."""
    m = json.loads(Path(manifest).read_text()) if Path(manifest).is_file() else {}
    return {k: m.get(k, v) for k, v in PAPER_BLEND.items()}


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


class GuideError(ValueError):
    """A checkpoint that cannot serve as the guide."""


class LAMGenerator:
    """Runs a guide YOLOv5 on BGR images and returns their LAMs (and raw maps). Used by gen_lam.py and detect.py."""

    def __init__(self, weights, imgsz=640, device='', alpha=0.5, beta=0.5, colormap='jet', score='obj', batch=16):
        from yolov5.models.experimental import attempt_load
        from yolov5.utils.general import check_img_size
        from yolov5.utils.torch_utils import select_device
        if colormap not in COLORMAPS:
            raise ValueError(f'colormap must be one of {sorted(COLORMAPS)}, got {colormap!r}')
        scale_maps([], score)  # validates score
        if not Path(weights).is_file():  # stock attempt_load would try to download it
            raise FileNotFoundError(f'guide checkpoint {weights} not found; train one with: '
                                    'python train.py --cfg yolov5s.yaml --data <data.yaml>')
        self.device = select_device(device)
        self.model = attempt_load(weights, device=self.device, fuse=True).eval()
        ch = self.model.yaml.get('ch', 3) if hasattr(self.model, 'yaml') else 3
        if ch != 3:
            raise GuideError(f'{weights}: a {ch}-channel model cannot be the guide; the guide is a stock RGB YOLOv5 '
                             '(train one with: python train.py --cfg yolov5s.yaml --data <data.yaml>)')
        self.weights, self.nc = Path(weights), self.model.model[-1].nc
        self.imgsz = check_img_size(imgsz, s=int(self.model.stride.max()))
        self.alpha, self.beta, self.colormap, self.score, self.batch = alpha, beta, colormap, score, batch

    @torch.no_grad()
    def maps(self, images):
        """BGR uint8 images (any sizes) -> list of (H0, W0) float32 location maps in [0, 255].

        Images of one size share a letterbox geometry and run through the guide together, ``batch`` at a time.
        """
        from yolov5.utils.augmentations import letterbox
        out, by_shape = [None] * len(images), {}
        for i, im in enumerate(images):
            by_shape.setdefault(im.shape, []).append(i)
        for shape, indices in by_shape.items():
            for k in range(0, len(indices), self.batch):
                chunk = indices[k:k + self.batch]
                boxed = [letterbox(images[i], self.imgsz, auto=False) for i in chunk]
                lb, (dw, dh) = boxed[0][0], boxed[0][2]
                top, left = int(round(dh - 0.1)), int(round(dw - 0.1))  # stock letterbox's own rounding
                resized = (lb.shape[0] - top - int(round(dh + 0.1)), lb.shape[1] - left - int(round(dw + 0.1)))
                x = np.stack([b[0].transpose(2, 0, 1)[::-1] for b in boxed])  # BGR HWC -> RGB CHW
                x = torch.from_numpy(np.ascontiguousarray(x)).to(self.device).float() / 255
                _, heads = self.model(x)
                maps = location_map(heads, lb.shape[:2], (left, top), resized, shape[:2], self.score).cpu().numpy()
                for i, m in zip(chunk, maps):
                    out[i] = m
        return out

    def __call__(self, images):
        """BGR uint8 images -> (LAM images, raw maps)."""
        maps = self.maps(images)
        return [blend(im, m, self.alpha, self.beta, self.colormap) for im, m in zip(images, maps)], maps

    def manifest(self):
        return {'guide': str(self.weights.resolve()), 'guide_sha256': sha256(self.weights), 'imgsz': self.imgsz,
                'alpha': self.alpha, 'beta': self.beta, 'colormap': self.colormap, 'score': self.score}


class BlankLAMs:
    """LAMs without location information: each image itself, what ``blend`` gives with α = 1, β = 0 and any map.
    The control that takes the guidance away from the same two-branch network (issue 11's blank twin); needs no
    guide, so a pipeline can make these LAMs and train the twin while the guide trains."""

    alpha, beta, colormap, score, nc = 1.0, 0.0, PAPER_BLEND['colormap'], None, None

    def maps(self, images):
        return [np.zeros(im.shape[:2], np.float32) for im in images]

    def __call__(self, images):
        return [im.copy() for im in images], self.maps(images)

    def manifest(self):
        return {'guide': None, 'blank': True, 'alpha': self.alpha, 'beta': self.beta, 'colormap': self.colormap,
                'score': self.score}
