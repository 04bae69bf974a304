"""How good is a guide's location map, and is it better on the images the guide trained on? (issue 11, H3)

    python benchmarks/lam_quality.py --weights runs/pipeline/<run>/guide/weights/best.pt --data neu.yaml --imgsz 256
    python benchmarks/lam_quality.py --saved-maps --data <data with lams:>.yaml   # maps gen_lam.py --save-map wrote

For every split of the data YAML: the AUROC of the raw Eq. 1 map (before colour coding) as a detector of defect
pixels, i.e. the probability that a pixel inside a labelled box scores higher than a pixel outside every box (ties
count half), pooled over the split; the mean map inside and outside boxes; and the same AUROC for each class's box
pixels (which defects the map marks). --saved-maps scores the maps gen_lam.py --save-map wrote beside the LAMs
instead of running a guide (e.g. out-of-fold maps from --folds). A guide whose training-split AUROC is far above its
test-split AUROC hands LAGNet cleaner maps in training than it will see at test time.
Writes benchmarks/results/lam-quality-<run>-<date>.md (or --out).
"""
import argparse
import datetime
import sys
from pathlib import Path

import numpy as np

import lagnet_modules
from report import result_path


def boxes(label_file, shape):
    """(class, y1, y2, x1, x2) in pixels, clipped to the image, of each YOLO-format box of ``label_file``."""
    h, w = shape
    if Path(label_file).is_file():
        for line in Path(label_file).read_text().splitlines():
            if line.strip():
                c, x, y, bw, bh = map(float, line.split()[:5])
                x1, x2 = int(round((x - bw / 2) * w)), int(round((x + bw / 2) * w))
                y1, y2 = int(round((y - bh / 2) * h)), int(round((y + bh / 2) * h))
                yield int(c), max(y1, 0), max(y2, 0), max(x1, 0), max(x2, 0)


def class_masks(label_file, shape):
    """{class: boolean (H, W) of the pixels inside that class's boxes} of ``label_file``."""
    masks = {}
    for c, y1, y2, x1, x2 in boxes(label_file, shape):
        masks.setdefault(c, np.zeros(shape, bool))[y1:y2, x1:x2] = True
    return masks


def middle_and_ends(box):
    """Mean map over the middle fifth and over the two end fifths of a box, cut along its long side (None if < 5 px):
    YOLOv5 trains objectness at the cells near a box's centre, so a long box's map may fade towards its ends."""
    box = box if box.shape[0] >= box.shape[1] else box.T
    fifth = box.shape[0] // 5
    if not fifth or not box.shape[1]:
        return None
    middle = box[2 * fifth:box.shape[0] - 2 * fifth]
    return middle.mean(), np.concatenate((box[:fifth], box[-fifth:])).mean()


def auroc(positive_hist, negative_hist):
    """AUROC from two histograms over the same ordered bins (exact for quantised scores; ties count half)."""
    p, n = positive_hist.astype(float), negative_hist.astype(float)
    if not p.sum() or not n.sum():
        return float('nan')
    below = np.cumsum(n) - n  # negatives strictly below each bin
    return float((p * (below + 0.5 * n)).sum() / (p.sum() * n.sum()))


def guide_maps(generator):
    """Maps of image files from a running guide (LAMGenerator)."""
    from lagnet_modules.data.images import read_image
    return lambda files: generator.maps([read_image(f) for f in files])


def saved_maps(data):
    """Maps of image files as gen_lam.py --save-map wrote them for ``data`` (uint8 PNGs, the image's size)."""
    import cv2

    from lagnet_modules.data.layout import LamLayout
    layout = LamLayout.from_data(data)
    return lambda files: [cv2.imread(str(layout.path(f, 'map')), cv2.IMREAD_GRAYSCALE).astype(np.float32)
                          for f in files]


def split_quality(maps, images, label_files, batch=16):
    """{'auroc', 'inside', 'outside', 'images', 'classes', 'middle_ends'} of one split (``maps``: image files ->
    raw maps).
    'classes': {class: AUROC of the pixels inside that class's boxes against the pixels outside every box};
    'middle_ends': {class: mean map over the middle and over the end fifths of its boxes (see middle_and_ends)}."""
    pos, neg, by_class, along = np.zeros(256, np.int64), np.zeros(256, np.int64), {}, {}
    inside, outside = [], []
    for k in range(0, len(images), batch):
        files = images[k:k + batch]
        for f, m in zip(files, maps(files)):
            q = np.clip(np.round(m), 0, 255).astype(np.int64)
            masks = class_masks(label_files[f], q.shape)
            mask = np.logical_or.reduce(list(masks.values())) if masks else np.zeros(q.shape, bool)
            pos += np.bincount(q[mask], minlength=256)
            neg += np.bincount(q[~mask], minlength=256)
            for c, class_mask in masks.items():
                by_class[c] = by_class.get(c, 0) + np.bincount(q[class_mask], minlength=256)
            for c, y1, y2, x1, x2 in boxes(label_files[f], q.shape):
                if (parts := middle_and_ends(m[y1:y2, x1:x2])) is not None:
                    along.setdefault(c, []).append(parts)
            if mask.any():
                inside.append(m[mask].mean())
            outside.append(m[~mask].mean())
    return {'auroc': auroc(pos, neg), 'inside': float(np.mean(inside)) if inside else float('nan'),
            'outside': float(np.mean(outside)), 'images': len(outside),
            'classes': {c: auroc(h, neg) for c, h in sorted(by_class.items())},
            'middle_ends': {c: tuple(np.mean(v, 0)) for c, v in sorted(along.items())}}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument('--weights', help='the guide YOLOv5 checkpoint')
    source.add_argument('--saved-maps', action='store_true', help="score the data's saved raw maps (--save-map)")
    ap.add_argument('--data', required=True)
    ap.add_argument('--imgsz', type=int, default=640, help='guide inference size (as for gen_lam.py)')
    ap.add_argument('--device', default='')
    ap.add_argument('--out', help='markdown file')
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    from yolov5.utils.dataloaders import img2label_paths
    from yolov5.utils.general import check_dataset

    from lagnet_modules.cli.common import UsageError, require_images
    from lagnet_modules.data.images import list_images
    from lagnet_modules.data.lam import LAMGenerator
    from lagnet_modules.paths import find_file
    try:
        require_images(opt.data, ('train', 'val', 'test'))
        d = check_dataset(str(find_file(opt.data, 'data')))
        maps = saved_maps(d) if opt.saved_maps else guide_maps(LAMGenerator(opt.weights, opt.imgsz, opt.device))
    except (UsageError, FileNotFoundError) as e:
        sys.exit(f'lam_quality.py: {e}')
    rows = {}
    for split in dict.fromkeys(d[k] for k in ('train', 'val', 'test') if d.get(k)):
        name = next(k for k in ('train', 'val', 'test') if d.get(k) == split)
        images = list_images(split)[0]
        rows[name] = split_quality(maps, images, dict(zip(images, img2label_paths(images))))
    what = 'saved maps' if opt.saved_maps else f'guide {opt.weights}, {opt.imgsz} px'
    lines = [f'# LAM quality — {what}, {opt.data}, {datetime.date.today().isoformat()}',
             '', 'AUROC of the raw Eq. 1 map for pixels inside vs outside labelled boxes (0.5 = chance); mean map '
             '(0-255) inside and outside boxes.', '', '| split | images | AUROC | mean inside | mean outside |',
             '|---|---|---|---|---|']
    lines += [f"| {k} | {r['images']} | {r['auroc']:.3f} | {r['inside']:.1f} | {r['outside']:.1f} |"
              for k, r in rows.items()]
    lines += ['', "By class: AUROC of the pixels inside that class's boxes against the pixels outside every box; mean "
              'map over the middle fifth / the two end fifths of its boxes, cut along the long side.', '',
              '| class | ' + ' | '.join(f'{k} AUROC | {k} middle / ends' for k in rows) + ' |',
              '|---' * (2 * len(rows) + 1) + '|']
    for c in sorted({c for r in rows.values() for c in r['classes']}):
        cells = []
        for r in rows.values():
            cells.append(f"{r['classes'][c]:.3f}" if c in r['classes'] else '—')
            cells.append('{:.1f} / {:.1f}'.format(*r['middle_ends'][c]) if c in r['middle_ends'] else '—')
        lines.append(f"| {d['names'][c]} | " + ' | '.join(cells) + ' |')
    command = ' '.join(argv if argv is not None else sys.argv[1:])
    lines += ['', f"Command: `python benchmarks/lam_quality.py {command}`", '']
    run = Path(opt.data).stem if opt.saved_maps else Path(opt.weights).parents[2].name
    out = Path(opt.out or result_path(f'lam-quality-{run}'))
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))
    return rows


if __name__ == '__main__':
    main()
