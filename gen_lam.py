"""Generate location activation maps (LAMs, paper Eq. 1) with a trained stock YOLOv5 guide.

    python gen_lam.py --weights runs/train/guide/weights/best.pt --data neu.yaml      # every split of a data YAML
    python gen_lam.py --weights guide.pt --source images/ --out lams/                  # any folder of images

With --data, the LAM of <root>/images/<split>/<stem>.<ext> is written to <root>/lams/<split>/<stem>.png (the
folder name follows the data YAML's `lams:` key), at the image's original resolution, with a manifest.json
recording the guide's SHA-256, alpha, beta, colormap and score. --save-map also writes the raw single-channel
map to <root>/lam_maps/<split>/<stem>.png.

Not implemented: --folds (out-of-fold LAMs for the training split); training LAMs come from a guide that saw
those images, so they are cleaner than test LAMs.
"""
import argparse
import json
import sys
from pathlib import Path

import cv2
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lagnet_modules  # noqa: E402, F401  (applies the yolov5 patches)
from lagnet_modules.lam import COLORMAPS, GuideError, LAMGenerator  # noqa: E402
from lagnet_modules.paired_data import lam_paths  # noqa: E402

IMAGE_SUFFIXES = {'.bmp', '.jpg', '.jpeg', '.png', '.tif', '.tiff', '.webp'}


def list_images(path):
    """Images of a folder, a *.txt list (paths relative to the list's folder) or a list of either."""
    if isinstance(path, (list, tuple)):
        return [f for p in path for f in list_images(p)]
    p = Path(path)
    if p.is_dir():
        return sorted(str(f) for f in p.rglob('*') if f.suffix.lower() in IMAGE_SUFFIXES)
    if p.suffix == '.txt' and p.is_file():
        return [str((p.parent / line.strip()).resolve()) for line in p.read_text().splitlines() if line.strip()]
    raise FileNotFoundError(f'{path}: no such folder or image list')


def jobs_from_data(data, save_map):
    """(image, LAM path, map path) for every image of every split of a data YAML (each image once)."""
    from yolov5.utils.general import check_dataset
    d = check_dataset(data)
    folder = d.get('lams', 'lams')
    images = sorted({f for k in ('train', 'val', 'test') if d.get(k) for f in list_images(d[k])})
    if not images:
        raise FileNotFoundError(f'{data}: no images in its train/val/test splits; prepare the dataset first')
    maps = lam_paths(images, 'lam_maps') if save_map else [None] * len(images)
    return list(zip(images, lam_paths(images, folder), maps)), d


def jobs_from_source(source, out, save_map):
    images = list_images(source)
    out = Path(out)
    return [(f, str(out / f'{Path(f).stem}.png'), str(out.parent / f'{out.name}_maps' / f'{Path(f).stem}.png')
             if save_map else None) for f in images]


def run(weights, data=None, source=None, out=None, imgsz=640, batch=16, device='', alpha=0.5, beta=0.5,
        colormap='jet', score='obj', save_map=False):
    guide = LAMGenerator(weights, imgsz, device, alpha, beta, colormap, score, batch)
    if data:
        jobs, d = jobs_from_data(data, save_map)
        if d['nc'] != guide.nc:
            raise GuideError(f"{weights} detects {guide.nc} classes but {data} has {d['nc']}: train the guide on "
                             f'this data first: python train.py --cfg yolov5s.yaml --data {data}')
    else:
        jobs = jobs_from_source(source, out or 'runs/lam', save_map)
    roots = set()
    for k in tqdm(range(0, len(jobs), batch), desc='LAMs', unit='batch'):
        chunk = jobs[k:k + batch]
        images = [cv2.imread(f) for f, _, _ in chunk]
        bad = [f for (f, _, _), im in zip(chunk, images) if im is None]
        if bad:
            raise OSError(f"cannot read {len(bad)} image(s): {', '.join(bad[:3])}")
        lams, maps = guide(images)
        for (_, lam_file, map_file), lam, m in zip(chunk, lams, maps):
            Path(lam_file).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(lam_file, lam)
            roots.add(Path(lam_file).parent.parent if data else Path(lam_file).parent)
            if map_file:
                Path(map_file).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(map_file, m.round().clip(0, 255).astype('uint8'))
    manifest = {**guide.manifest(), 'images': len(jobs), 'source': str(data or source)}
    for root in roots:
        (root / 'manifest.json').write_text(json.dumps(manifest, indent=2) + '\n')
    print(f"{len(jobs)} LAMs -> {', '.join(str(r) for r in sorted(roots))}")
    return jobs


def parse_opt(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--weights', required=True, help='trained stock YOLOv5 guide checkpoint (*.pt)')
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument('--data', help='data YAML: LAMs for all its splits, beside images/')
    src.add_argument('--source', help='folder or *.txt list of images')
    ap.add_argument('--out', help='with --source: output folder (default runs/lam)')
    ap.add_argument('--imgsz', '--img', type=int, default=640, help='guide inference size (pixels)')
    ap.add_argument('--batch', type=int, default=16, help='images per guide forward pass')
    ap.add_argument('--device', default='', help='cuda device, i.e. 0, or cpu')
    ap.add_argument('--alpha', type=float, default=0.5, help='weight of the image in the blend')
    ap.add_argument('--beta', type=float, default=0.5, help='weight of the colour-coded map in the blend')
    ap.add_argument('--colormap', default='jet', choices=sorted(COLORMAPS))
    ap.add_argument('--score', default='obj', choices=['obj', 'conf'], help='objectness, or objectness x best class')
    ap.add_argument('--save-map', action='store_true', help='also save the raw single-channel location map')
    return ap.parse_args(argv)


def main(argv=None):
    opt = parse_opt(argv)
    try:
        run(**vars(opt))
    except (FileNotFoundError, OSError, GuideError, ValueError) as e:
        sys.exit(f'gen_lam.py: {e}')


if __name__ == '__main__':
    main()
