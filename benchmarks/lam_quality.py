"""How good is a guide's location map, and is it better on the images the guide trained on? (issue 11, H3)

    python benchmarks/lam_quality.py --weights runs/pipeline/<run>/guide/weights/best.pt --data neu.yaml --imgsz 256

For every split of the data YAML: the AUROC of the raw Eq. 1 map (before colour coding) as a detector of defect
pixels, i.e. the probability that a pixel inside a labelled box scores higher than a pixel outside every box (ties
count half), pooled over the split; and the mean map inside and outside boxes. A guide whose training-split AUROC
is far above its test-split AUROC hands LAGNet cleaner maps in training than it will see at test time.
Writes benchmarks/results/lam-quality-<run>-<date>.md (or --out).
"""
import argparse
import datetime
from pathlib import Path

import numpy as np

import lagnet_modules


def box_mask(label_file, shape):
    """Boolean (H, W): pixels inside any YOLO-format box of ``label_file``."""
    h, w = shape
    mask = np.zeros((h, w), bool)
    if Path(label_file).is_file():
        for line in Path(label_file).read_text().splitlines():
            if line.strip():
                _, x, y, bw, bh = map(float, line.split()[:5])
                x1, x2 = int(round((x - bw / 2) * w)), int(round((x + bw / 2) * w))
                y1, y2 = int(round((y - bh / 2) * h)), int(round((y + bh / 2) * h))
                mask[max(y1, 0):max(y2, 0), max(x1, 0):max(x2, 0)] = True
    return mask


def auroc(positive_hist, negative_hist):
    """AUROC from two histograms over the same ordered bins (exact for quantised scores; ties count half)."""
    p, n = positive_hist.astype(float), negative_hist.astype(float)
    if not p.sum() or not n.sum():
        return float('nan')
    below = np.cumsum(n) - n  # negatives strictly below each bin
    return float((p * (below + 0.5 * n)).sum() / (p.sum() * n.sum()))


def split_quality(generator, images, label_files, batch=16):
    """{'auroc', 'inside', 'outside', 'images'} of one split."""
    from lagnet_modules.data.images import read_image
    pos, neg = np.zeros(256, np.int64), np.zeros(256, np.int64)
    inside, outside = [], []
    for k in range(0, len(images), batch):
        ims = [(f, read_image(f)) for f in images[k:k + batch]]
        ims = [(f, im) for f, im in ims if im is not None]
        for (f, im), m in zip(ims, generator.maps([im for _, im in ims])):
            q = np.clip(np.round(m), 0, 255).astype(np.int64)
            mask = box_mask(label_files[f], q.shape)
            pos += np.bincount(q[mask], minlength=256)
            neg += np.bincount(q[~mask], minlength=256)
            if mask.any():
                inside.append(m[mask].mean())
            outside.append(m[~mask].mean())
    return {'auroc': auroc(pos, neg), 'inside': float(np.mean(inside)) if inside else float('nan'),
            'outside': float(np.mean(outside)), 'images': len(outside)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--weights', required=True, help='the guide YOLOv5 checkpoint')
    ap.add_argument('--data', required=True)
    ap.add_argument('--imgsz', type=int, default=640, help='guide inference size (as for gen_lam.py)')
    ap.add_argument('--device', default='')
    ap.add_argument('--out', help='markdown file')
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    from yolov5.utils.dataloaders import img2label_paths
    from yolov5.utils.general import check_dataset

    from lagnet_modules.data.images import list_images
    from lagnet_modules.data.lam import LAMGenerator
    from lagnet_modules.paths import find_file
    d = check_dataset(str(find_file(opt.data, 'data')))
    generator = LAMGenerator(opt.weights, opt.imgsz, opt.device)
    rows = {}
    for split in dict.fromkeys(d[k] for k in ('train', 'val', 'test') if d.get(k)):
        name = next(k for k in ('train', 'val', 'test') if d.get(k) == split)
        images = list_images(split)[0]
        rows[name] = split_quality(generator, images, dict(zip(images, img2label_paths(images))))
    lines = [f'# LAM quality — guide {opt.weights}, {opt.data}, {opt.imgsz} px, {datetime.date.today().isoformat()}',
             '', 'AUROC of the raw Eq. 1 map for pixels inside vs outside labelled boxes (0.5 = chance); mean map '
             '(0-255) inside and outside boxes.', '', '| split | images | AUROC | mean inside | mean outside |',
             '|---|---|---|---|---|']
    lines += [f"| {k} | {r['images']} | {r['auroc']:.3f} | {r['inside']:.1f} | {r['outside']:.1f} |"
              for k, r in rows.items()]
    lines += ['', f"Command: `python benchmarks/lam_quality.py --weights {opt.weights} --data {opt.data} --imgsz "
              f"{opt.imgsz}`", '']
    out = Path(opt.out or Path(__file__).parent / 'results' /
               f'lam-quality-{Path(opt.weights).parents[2].name}-{datetime.date.today().isoformat()}.md')
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))
    return rows


if __name__ == '__main__':
    main()
