"""Generate location activation maps (LAMs, paper Eq. 1) with a trained stock YOLOv5 guide.

    python gen_lam.py --weights runs/train/guide/weights/best.pt --data neu.yaml      # every split of a data YAML
    python gen_lam.py --weights guide.pt --source images/ --out lams/                  # any folder of images

With --data, each image's LAM goes where the pair loader looks for it (lagnet_modules/data/layout.py):
<root>/images/<split>/<stem>.<ext> -> <root>/lams/<split>/<stem>.png; a flat folder <dir>/<stem>.<ext> ->
<dir>/../lams/<dir name>/<stem>.png; the data YAML's `lams:` key renames the folder or, as a path, moves all LAMs
under it. LAMs are written at the image's original resolution, with a manifest.json recording the guide's SHA-256,
alpha, beta, colormap and score. --save-map also writes the raw single-channel map (folder <lams>_maps).

--folds K makes out-of-fold LAMs (issue 11): the training split is cut into K seeded folds, K guides train
(--guide-cfg, --guide-epochs, --train-args), each on the other folds, and each makes the LAMs of its held-out fold;
val/test LAMs are made from the pixel-wise mean of the K guides' maps, so training and test LAMs come from guides of
the same strength, none of which saw the image it maps. The manifest lists the K guides.

--blank writes blank LAMs, no guide needed: each image itself (what --alpha 1 --beta 0 gives with any guide), the
control that trains the same two-branch network with no location information (pipeline.py --blank).

    python gen_lam.py --data synthetic.yaml --folds 2 --guide-cfg yolov5n.yaml --guide-epochs 80 --imgsz 128 \
        --train-args --hyp hyp.demo.yaml --batch-size 8

No input image is ever written: if a LAM would land on an input image or inside a folder a split reads images
from, nothing is written and the message says which `lams:` to set. Unreadable or truncated images are skipped
with a warning (the pair loader then names them).
"""
import argparse
import json
import os
from pathlib import Path

import cv2
import numpy as np
import yaml
from tqdm import tqdm

from ..data.images import dataset_images, list_images, read_image
from ..data.lam import COLORMAPS, BlankLAMs, GuideError, LAMGenerator, blend
from ..data.layout import LamLayout, check_outputs
from ..paths import find_file
from . import common


def jobs_from_data(data, save_map):
    """([(image, LAM file, map file or None)], manifest files, number of classes) for every split of a data YAML."""
    from yolov5.utils.general import check_dataset
    data_file = find_file(data, 'data')
    common.require_images(data, ('train', 'val', 'test'))
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


class MeanOfGuides:
    """The pixel-wise mean of several guides' location maps, blended like one guide's."""

    def __init__(self, generators):
        self.generators = generators

    def maps(self, images):
        return [np.mean(ms, 0) for ms in zip(*(g.maps(images) for g in self.generators))]

    def __call__(self, images):
        maps, g = self.maps(images), self.generators[0]
        return [blend(im, m, g.alpha, g.beta, g.colormap) for im, m in zip(images, maps)], maps


def fold_guides(data, folds, guide_cfg, epochs, train_args, project='runs/folds', seed=0):
    """Train ``folds`` guides, each on all training images but one fold; return {image: guide index}, [guide.pt]."""
    from yolov5.utils.general import check_dataset

    from .pipeline import train_once
    d = check_dataset(str(find_file(data, 'data')))
    images = list_images(d['train'])[0]
    order = np.random.default_rng(seed).permutation(len(images))
    fold_of = {images[i]: k % folds for k, i in enumerate(order)}
    root = Path(project) / f'{Path(data).stem}-{folds}fold-{Path(guide_cfg).stem}-{epochs}e-seed{seed}'
    guides = []
    for k in range(folds):
        run_dir = root / f'fold{k}'
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / 'train.txt').write_text(''.join(f'{os.path.abspath(f)}\n' for f in images if fold_of[f] != k))
        fold_data = run_dir / 'data.yaml'
        fold_data.write_text(yaml.safe_dump({'path': str(d['path']), 'train': str((run_dir / 'train.txt').resolve()),
                                             'val': d['val'], 'names': d['names']}))
        args = ['--cfg', guide_cfg, '--data', fold_data, '--epochs', epochs, '--seed', seed, '--project', run_dir,
                '--name', 'guide', '--exist-ok', *train_args]
        guides.append(train_once(run_dir / 'guide', args, log=run_dir / 'guide.log'))
    return {os.path.abspath(f): k for f, k in fold_of.items()}, guides


def run(weights=None, data=None, source=None, out=None, imgsz=640, batch=16, device='', alpha=0.5, beta=0.5,
        colormap='jet', score='obj', save_map=False, folds=0, guide_cfg='yolov5s.yaml', guide_epochs=100,
        train_args=(), project='runs/folds', seed=0, blank=False):
    """Write the LAMs; returns (jobs written, images skipped as unreadable)."""
    if data and out:  # silently writing elsewhere than asked would leave the loader reading stale LAMs
        raise common.UsageError(f'--out is for --source; with --data the LAMs go where the pair loader reads them. '
                                f'To put them elsewhere, set `lams: {out}` in {data}')
    if data:
        jobs, manifests, nc = jobs_from_data(data, save_map)
    else:
        jobs, manifests = jobs_from_source(source, out or 'runs/lam', save_map)
    if blank and (weights or folds):
        raise common.UsageError('--blank LAMs are the images themselves and need no guide: drop --weights/--folds')
    if blank:
        generators = [BlankLAMs()]
        source_of, manifest = generators * len(jobs), generators[0].manifest()
    elif folds:
        if not data:
            raise common.UsageError('--folds needs --data: the folds are cut from its training split')
        fold_of, weights = fold_guides(data, folds, guide_cfg, guide_epochs, list(train_args), project, seed)
        generators = [LAMGenerator(w, imgsz, device, alpha, beta, colormap, score, batch) for w in weights]
        mean = MeanOfGuides(generators)
        source_of = [generators[fold_of[os.path.abspath(f)]] if os.path.abspath(f) in fold_of else mean
                     for f, _, _ in jobs]
        manifest = {**generators[0].manifest(), 'guide': None, 'folds': folds,
                    'guides': [g.manifest()['guide'] for g in generators],
                    'guides_sha256': [g.manifest()['guide_sha256'] for g in generators]}
        del manifest['guide_sha256']
    else:
        if not weights:
            raise common.UsageError('--weights <guide.pt> is required (or --folds K to train fold guides, or --blank)')
        guide = LAMGenerator(weights, imgsz, device, alpha, beta, colormap, score, batch)
        generators, source_of, manifest = [guide], [guide] * len(jobs), guide.manifest()
    if data and not blank and nc != generators[0].nc:
        raise GuideError(f'{weights} detects {generators[0].nc} classes but {data} has {nc}: train the guide on this '
                         f'data first: python train.py --cfg yolov5s.yaml --data {data}')
    done, skipped = [], []
    groups = {}
    for job, generator in zip(jobs, source_of):
        groups.setdefault(id(generator), (generator, []))[1].append(job)
    for generator, group in groups.values():
        for k in tqdm(range(0, len(group), batch), desc='LAMs', unit='batch'):
            chunk = [(job, read_image(job[0])) for job in group[k:k + batch]]
            skipped += [job[0] for job, im in chunk if im is None]
            chunk = [(job, im) for job, im in chunk if im is not None]
            if not chunk:
                continue
            lams, maps = generator([im for _, im in chunk])
            for ((_, lam_file, map_file), _), lam, m in zip(chunk, lams, maps):
                Path(lam_file).parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(lam_file), lam)
                if map_file:
                    Path(map_file).parent.mkdir(parents=True, exist_ok=True)
                    cv2.imwrite(str(map_file), m.round().clip(0, 255).astype('uint8'))
            done += [job for job, _ in chunk]
    manifest = {**manifest, 'images': len(done), 'source': str(data or source)}
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
    ap.add_argument('--weights', help='trained stock YOLOv5 guide checkpoint (*.pt); not with --folds or --blank')
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
    ap.add_argument('--blank', action='store_true', help='blank LAMs (each image itself, no guide): the control')
    ap.add_argument('--folds', type=int, default=0, help='K > 1: out-of-fold LAMs from K guides trained here')
    ap.add_argument('--guide-cfg', default='yolov5s.yaml', help='with --folds: the fold guides\' model')
    ap.add_argument('--guide-epochs', type=int, default=100, help='with --folds: their epochs')
    ap.add_argument('--project', default='runs/folds', help='with --folds: where the fold guides train')
    ap.add_argument('--seed', type=int, default=0, help='with --folds: seed of the fold split and of the guides')
    ap.add_argument('--train-args', nargs=argparse.REMAINDER, default=[], help='with --folds: more train.py flags '
                    '(last)')
    opt = ap.parse_args(argv)
    if opt.folds == 1 or opt.folds < 0:
        ap.error('--folds takes K >= 2 (or 0: one guide, --weights)')
    return opt


def main(argv=None):
    return common.main('gen_lam.py', lambda args: run(**vars(parse_opt(args))), argv)
