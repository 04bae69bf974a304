"""Generate location activation maps (LAMs, paper Eq. 1) with a trained stock YOLOv5 guide.

    python gen_lam.py --weights runs/train/guide/weights/best.pt --data neu.yaml      # every split of a data YAML
    python gen_lam.py --weights guide.pt --source images/ --out lams/                  # any folder of images

With --data, each image's LAM goes where the pair loader looks for it (lagnet_modules/data/layout.py):
<root>/images/<split>/<stem>.<ext> -> <root>/lams/<split>/<stem>.png; a flat folder <dir>/<stem>.<ext> ->
<dir>/../lams/<dir name>/<stem>.png; the data YAML's `lams:` key renames the folder or, as a path, moves all LAMs
under it. LAMs are written at the image's original resolution, with a manifest.json recording the guide's SHA-256,
alpha, beta, colormap and score. --save-map also writes the raw single-channel map (folder <lams>_maps).

No input image is ever written: if a LAM would land on an input image or inside a folder a split reads images
from, nothing is written and the message says which `lams:` to set. Unreadable or truncated images are skipped
with a warning (the pair loader then names them).
"""
import argparse
import json
from pathlib import Path

import cv2
from tqdm import tqdm

from ..data.images import dataset_images, list_images, read_image
from ..data.lam import COLORMAPS, GuideError, LAMGenerator
from ..data.layout import LamLayout, check_outputs
from ..paths import find_file
from . import common


def jobs_from_data(data, save_map):
    """([(image, LAM file, map file or None)], manifest files, number of classes) for every split of a data YAML."""
    from yolov5.utils.general import check_dataset
    data_file = find_file(data, 'data')
    d = check_dataset(str(data_file))
    images, scanned = dataset_images(d)
    if not images:
        raise FileNotFoundError(f'{data}: no images in its train/val/test splits; prepare the dataset first')
    layout = LamLayout.from_data(d)
    layout.check(images, scanned, data_file, ('lam', 'map') if save_map else ('lam',))
    jobs = [(f, layout.path(f), layout.path(f, 'map') if save_map else None) for f in images]
    return jobs, sorted({layout.manifest(f) for f in images}), d['nc']


def jobs_from_source(source, out, save_map):
    images, scanned = list_images(source)
    if not images:
        raise FileNotFoundError(f'{source}: no images')
    out = Path(out)
    maps = out.with_name(f'{out.name}_maps')
    jobs = [(f, out / f'{Path(f).stem}.png', maps / f'{Path(f).stem}.png' if save_map else None) for f in images]
    check_outputs([(f, o) for f, *outs in jobs for o in outs if o], scanned, 'Choose another --out folder.')
    return jobs, [out / 'manifest.json']


def run(weights, data=None, source=None, out=None, imgsz=640, batch=16, device='', alpha=0.5, beta=0.5,
        colormap='jet', score='obj', save_map=False):
    """Write the LAMs; returns (jobs written, images skipped as unreadable)."""
    if data:
        jobs, manifests, nc = jobs_from_data(data, save_map)
    else:
        jobs, manifests = jobs_from_source(source, out or 'runs/lam', save_map)
    guide = LAMGenerator(weights, imgsz, device, alpha, beta, colormap, score, batch)
    if data and nc != guide.nc:
        raise GuideError(f'{weights} detects {guide.nc} classes but {data} has {nc}: train the guide on this data '
                         f'first: python train.py --cfg yolov5s.yaml --data {data}')
    done, skipped = [], []
    for k in tqdm(range(0, len(jobs), batch), desc='LAMs', unit='batch'):
        chunk = [(job, read_image(job[0])) for job in jobs[k:k + batch]]
        skipped += [job[0] for job, im in chunk if im is None]
        chunk = [(job, im) for job, im in chunk if im is not None]
        if not chunk:
            continue
        lams, maps = guide([im for _, im in chunk])
        for ((_, lam_file, map_file), _), lam, m in zip(chunk, lams, maps):
            Path(lam_file).parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(lam_file), lam)
            if map_file:
                Path(map_file).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(map_file), m.round().clip(0, 255).astype('uint8'))
        done += [job for job, _ in chunk]
    manifest = {**guide.manifest(), 'images': len(done), 'source': str(data or source)}
    for f in manifests:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps(manifest, indent=2) + '\n')
    print(f"{len(done)} LAMs -> {', '.join(str(f.parent) for f in manifests)}")
    if skipped:
        print(f"WARNING: {len(skipped)} unreadable or truncated image(s) skipped, no LAM: {', '.join(skipped[:5])}"
              f"{' ...' if len(skipped) > 5 else ''}")
    return done, skipped


def parse_opt(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--weights', required=True, help='trained stock YOLOv5 guide checkpoint (*.pt)')
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument('--data', help='data YAML: LAMs for all its splits, where the pair loader reads them')
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
    return common.main('gen_lam.py', lambda args: run(**vars(parse_opt(args))), argv)
