"""Write a small, seeded, YOLO-format dataset of steel-like surfaces with strip, weak and compact defects.

    python data/scripts/make_synthetic.py --out datasets/synthetic [--n 300] [--imgsz 128] [--contrast 14]
        [--scratch-width 1.5 3] [--scratch-length 0.35 0.8] [--scratch-tilt DEG] [--seed 0]

Classes: 0 scratch (long thin strip, aspect ratio >= 8, any orientation, or with --scratch-tilt along or across the
rolling direction within DEG degrees, as scratches on rolled steel mostly run), 1 patch (weak, low-contrast blob,
contrast settable), 2 spot (compact dark spot). Splits train/val/test = 70/15/15 %. Images are PNG (JPEG would
smear the weak patches). Needs no download; `data/synthetic.yaml` points at the default output.
"""
import argparse
import math
from pathlib import Path

import cv2
import numpy as np

NAMES = ['scratch', 'patch', 'spot']
SCRATCH_WIDTHS = (1.5, 3.0)  # pixels; make_synthetic.py --scratch-width
SCRATCH_LENGTHS = (0.35, 0.8)  # fractions of the image side; make_synthetic.py --scratch-length


def surface(rng, s):
    """Grey steel-like texture: low-frequency shading, rolling streaks along x, fine grain."""
    shade = cv2.GaussianBlur(rng.normal(0, 1, (s, s)).astype(np.float32), (0, 0), s / 6)
    shade = shade / (np.abs(shade).max() + 1e-6) * 12
    streaks = cv2.GaussianBlur(rng.normal(0, 1, (s, 1)).astype(np.float32), (0, 0), 1.5) * 6
    grain = rng.normal(0, 4, (s, s)).astype(np.float32)
    return 128 + shade + np.repeat(streaks, s, 1) + grain


def scratch(rng, im, s, widths=SCRATCH_WIDTHS, tilt=None, lengths=SCRATCH_LENGTHS):
    """A strip of random width in ``widths`` and length in ``lengths`` × s (at least 8 widths); any orientation, or
    within ``tilt`` degrees of the x or y axis."""
    width = rng.uniform(*widths)
    length = rng.uniform(max(lengths[0] * s, 8 * width), max(lengths[1] * s, 8 * width))
    angle = rng.uniform(0, math.pi) if tilt is None else (  # None: the default set's draws, unchanged
        rng.integers(0, 2) * math.pi / 2 + math.radians(rng.uniform(-tilt, tilt)))
    cx, cy = rng.uniform(0.25 * s, 0.75 * s, 2)
    d, n = np.array([math.cos(angle), math.sin(angle)]), np.array([-math.sin(angle), math.cos(angle)])
    c = np.array([cx, cy])
    corners = np.array([c + a * d * length / 2 + b * n * width / 2 for a in (-1, 1) for b in (-1, 1)])[[0, 1, 3, 2]]
    mask = np.zeros_like(im)
    cv2.fillPoly(mask, [np.round(corners * 16).astype(np.int32)], 1.0, cv2.LINE_AA, shift=4)
    im += mask * rng.choice([-1, 1]) * rng.uniform(35, 55)
    return corners


def patch(rng, im, s, contrast):
    axes = rng.uniform(0.08, 0.16, 2) * s
    cx, cy = rng.uniform(0.2 * s, 0.8 * s, 2)
    mask = np.zeros_like(im)
    cv2.ellipse(mask, (int(cx), int(cy)), (int(axes[0]), int(axes[1])), rng.uniform(0, 180), 0, 360, 1.0, -1)
    im += cv2.GaussianBlur(mask, (0, 0), 2) * rng.choice([-1, 1]) * contrast
    r = axes.max()
    return np.array([[cx - r, cy - r], [cx + r, cy + r]])


def spot(rng, im, s):
    r = rng.uniform(0.025, 0.05) * s + 1.5
    cx, cy = rng.uniform(0.1 * s, 0.9 * s, 2)
    mask = np.zeros_like(im)
    cv2.circle(mask, (int(cx * 16), int(cy * 16)), int(r * 16), 1.0, -1, cv2.LINE_AA, shift=4)
    im -= mask * rng.uniform(50, 80)
    return np.array([[cx - r, cy - r], [cx + r, cy + r]])


def make_image(rng, s, contrast, scratch_widths=SCRATCH_WIDTHS, scratch_tilt=None, scratch_lengths=SCRATCH_LENGTHS):
    im, labels = surface(rng, s), []
    for _ in range(rng.integers(1, 4)):
        cls = int(rng.integers(0, len(NAMES)))
        pts = (scratch(rng, im, s, scratch_widths, scratch_tilt, scratch_lengths) if cls == 0 else
               patch(rng, im, s, contrast) if cls == 1 else spot(rng, im, s))
        (x1, y1), (x2, y2) = np.clip(pts.min(0), 0, s), np.clip(pts.max(0), 0, s)
        labels.append((cls, (x1 + x2) / 2 / s, (y1 + y2) / 2 / s, (x2 - x1) / s, (y2 - y1) / s))
    im = np.clip(im, 0, 255).astype(np.uint8)
    return cv2.cvtColor(im, cv2.COLOR_GRAY2BGR), labels


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--out', default='datasets/synthetic', help='output dataset root')
    ap.add_argument('--n', type=int, default=300, help='number of images in all splits')
    ap.add_argument('--imgsz', type=int, default=128, help='square image size in pixels')
    ap.add_argument('--contrast', type=float, default=14, help='grey-level amplitude of the weak patches')
    ap.add_argument('--scratch-width', type=float, nargs=2, default=SCRATCH_WIDTHS, metavar=('MIN', 'MAX'),
                    help='scratch width range in pixels (aspect ratio stays >= 8)')
    ap.add_argument('--scratch-length', type=float, nargs=2, default=SCRATCH_LENGTHS, metavar=('MIN', 'MAX'),
                    help='scratch length range as fractions of the image side (default: 0.35 0.8)')
    ap.add_argument('--scratch-tilt', type=float, metavar='DEG',
                    help='scratches along or across the rolling direction, within DEG degrees (default: any angle)')
    ap.add_argument('--seed', type=int, default=0)
    opt = ap.parse_args(argv)
    if not 0 < opt.scratch_width[0] <= opt.scratch_width[1]:
        ap.error(f'--scratch-width {opt.scratch_width[0]:g} {opt.scratch_width[1]:g}: needs 0 < MIN <= MAX (pixels)')
    if not 0 < opt.scratch_length[0] <= opt.scratch_length[1] <= 1:
        ap.error(f'--scratch-length {opt.scratch_length[0]:g} {opt.scratch_length[1]:g}: needs 0 < MIN <= MAX <= 1 '
                 '(fractions of the image side)')
    if opt.scratch_tilt is not None and not 0 <= opt.scratch_tilt <= 45:
        ap.error(f'--scratch-tilt {opt.scratch_tilt:g}: needs 0 <= DEG <= 45 (45 is any angle)')
    rng, out = np.random.default_rng(opt.seed), Path(opt.out)
    n_train, n_val = round(0.7 * opt.n), round(0.15 * opt.n)
    boxes = 0
    for i in range(opt.n):
        split = 'train' if i < n_train else 'val' if i < n_train + n_val else 'test'
        im, labels = make_image(rng, opt.imgsz, opt.contrast, opt.scratch_width, opt.scratch_tilt, opt.scratch_length)
        for d in ('images', 'labels'):
            (out / d / split).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out / 'images' / split / f'syn_{i:05d}.png'), im)
        (out / 'labels' / split / f'syn_{i:05d}.txt').write_text(
            ''.join(f'{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n' for c, x, y, w, h in labels))
        boxes += len(labels)
    print(f'{opt.n} images ({n_train} train, {n_val} val, {opt.n - n_train - n_val} test), {boxes} boxes -> {out}')


if __name__ == '__main__':
    main()
