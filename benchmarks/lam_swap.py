"""How much does a trained LAGNet read its LAM? The same trained models, tested with other LAMs (issue 11).

    python benchmarks/lam_swap.py --study runs/seeds/neu-yolov5s-40e-128px --arm dual-cspdarknet-lgb-scem-n-guide \
        --seeds 0 1 2 --lams own empty lams-neu-yolov5n-40e-128px-blank lams-neu-yolov5n-40e-128px-seed{seed} oracle

Each seed's trained arm (``<study>/seed<N>/<arm>/weights/best.pt``, as benchmarks/seeds.py leaves it) is validated
on the test split of the data it trained on, once per LAM set:

    own      the LAMs it trained on (its data YAML's ``lams:``)
    empty    a map of zeros, blended like its own LAMs (their manifest's alpha, beta, colour map; the paper's JET
             0.5:0.5): a guide that marks nothing (the LAMs' usual background colour everywhere, so still the kind
             of input the LAM branch trained on)
    oracle   the labelled boxes as the map (255 inside every box, 0 outside), blended the same way: what a guide
             that marked every defect and nothing else would hand over
    NAME     any other LAM folder of the dataset (``lams:`` value; ``{seed}`` becomes the seed), e.g. the blank
             LAMs benchmarks/seeds.py made (the image itself: no location information at all)

Nothing is retrained: the spread between the rows is how much the trained LAGNet's detections follow its map, and
the ``oracle`` row is the headroom a better guide would open for this very network (its maps are sharper than any
guide's, so a LAGNet that learned to discount a blurry map may use them less than a better guide's). Writes
benchmarks/results/lam-swap-<study>-<arm>-<date>.md.
"""
import argparse
import datetime
import json
import sys
import textwrap
from pathlib import Path

import cv2
import numpy as np
import yaml

import lagnet_modules
from lagnet_modules.cli import pipeline
from lagnet_modules.cli.common import data_yaml
from lagnet_modules.data.images import list_images
from lagnet_modules.data.lam import PAPER_BLEND, blend, blend_of
from lagnet_modules.data.layout import LamLayout
from report import fmt, result_path

DRAWN = {'empty': 'lams-empty', 'oracle': 'lams-oracle'}  # LAM sets drawn from the labels, not from a guide


def drawn_map(shape, labels, kind='oracle'):
    """(H, W) float map: for 'oracle' 255 inside every YOLO-format box (cls, x, y, w, h normalised), 0 elsewhere;
    for 'empty' 0 everywhere."""
    h, w = shape
    m = np.zeros((h, w), np.float32)
    for _, x, y, bw, bh in labels if kind == 'oracle' else ():
        x1, y1, x2, y2 = (x - bw / 2) * w, (y - bh / 2) * h, (x + bw / 2) * w, (y + bh / 2) * h
        m[max(int(round(y1)), 0):int(round(y2)), max(int(round(x1)), 0):int(round(x2))] = 255
    return m


def encoding(data):
    """alpha, beta and colour map of the LAMs a data YAML names (their manifest; the paper's when it has none)."""
    d = data_yaml(data)
    return blend_of(LamLayout.from_data(d).manifest(list_images(split_paths(d, 'train'))[0][0]))


def split_paths(d, split):
    return [str(Path(d.get('path') or '') / s) for s in (d[split] if isinstance(d[split], list) else [d[split]])]


def write_drawn(data, kind='oracle', split='test', blend_args=None):
    """The ``kind`` LAMs ('oracle' or 'empty') of ``split`` into the dataset's ``lams-<kind>`` folder, blended with
    ``blend_args`` (alpha, beta, colormap; default the paper's). Rewritten every call: cheap, and never stale against
    the labels. Returns the number written."""
    from yolov5.utils.dataloaders import img2label_paths
    blend_args = blend_args or PAPER_BLEND
    d = data_yaml(data)
    layout = LamLayout(DRAWN[kind], d.get('path') or '')
    images, _ = list_images(split_paths(d, split))
    for image, label in zip(images, img2label_paths(images)):
        im = cv2.imread(image)
        labels = np.loadtxt(label, ndmin=2) if Path(label).is_file() else np.zeros((0, 5))
        out = layout.path(image)
        out.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out), blend(im, drawn_map(im.shape[:2], labels, kind), **blend_args))
    layout.manifest(images[0]).write_text(json.dumps({'guide': None, 'drawn': kind, 'split': split, **blend_args},
                                                     indent=2))
    return len(images)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--study', required=True, help='a benchmarks/seeds.py run folder, runs/seeds/<name>')
    ap.add_argument('--arm', required=True, help='the trained 6-channel arm, e.g. dual-cspdarknet-lgb-scem-n-guide')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--lams', nargs='+', default=['own', 'empty', 'oracle'], help='LAM sets (see above)')
    ap.add_argument('--device', default='')
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    study = Path(opt.study)
    results, written = {}, set()
    for seed in opt.seeds:
        run_dir = study / f'seed{seed}'
        weights = run_dir / opt.arm / 'weights' / 'best.pt'
        if not weights.is_file():
            sys.exit(f'{weights}: no trained arm there; train it first with benchmarks/seeds.py')
        trained = yaml.safe_load((run_dir / opt.arm / 'opt.yaml').read_text())
        for kind in opt.lams:
            lams = {'own': lambda old: old, **DRAWN}.get(kind, kind.format(seed=seed))
            data = pipeline.with_lams(trained['data'], lams, run_dir / 'lam-swap' / f'{kind.format(seed=seed)}.yaml')
            if kind in DRAWN and (kind, data_yaml(data)['path']) not in written:
                print(f"{kind} LAMs: {write_drawn(data, kind, blend_args=encoding(trained['data']))} test images")
                written.add((kind, data_yaml(data)['path']))
            arm = argparse.Namespace(data=data, imgsz=trained['imgsz'], device=opt.device)
            m = pipeline.validate(weights, f'{opt.arm}-{kind.format(seed=seed)}', arm, run_dir / 'lam-swap')
            results.setdefault(kind, {})[seed] = {'mAP50': m['all']['mAP50'],
                                                  'classes': {c: v['mAP50'] for c, v in m['classes'].items()}}
    lines = [f'# LAM swap — {opt.arm} of {study.name}, {datetime.date.today().isoformat()}', '',
             textwrap.fill(f'The trained models of seeds {opt.seeds}, tested (test split, mAP@0.5 in %, mean ± std '
                           'over seeds) with the LAM set of each row; nothing retrained. See `benchmarks/lam_swap.py` '
                           'for the sets.', 118), '',
             '| test LAMs | mAP@0.5 | per seed | ' + ' | '.join(results[opt.lams[0]][opt.seeds[0]]['classes']) + ' |',
             '|---|---|---|' + '---|' * len(results[opt.lams[0]][opt.seeds[0]]['classes'])]
    for kind, per_seed in results.items():
        r = [per_seed[s] for s in opt.seeds]
        lines.append(f"| {kind} | {fmt([x['mAP50'] for x in r])} | "
                     + ', '.join(f"{100 * x['mAP50']:.1f}" for x in r) + ' | '
                     + ' | '.join(fmt([x['classes'][c] for x in r]) for c in r[0]['classes']) + ' |')
    command = ' '.join(argv if argv is not None else sys.argv[1:])
    lines += ['', f'Reproduce: `python benchmarks/lam_swap.py {command}`', '']
    out = result_path(f'lam-swap-{study.name}-{opt.arm}')
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
