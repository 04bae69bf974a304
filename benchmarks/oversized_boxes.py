"""Boxes over most of the image that no label is like: which arms predict them, and is SCEM's product the cause?

    python benchmarks/oversized_boxes.py --study runs/seeds/demo-g60-gb --seeds 0 1 2 3 4 \
        --arms guide dual-cspdarknet-lgb-scem-n-guide-guide-backbone dual-cspdarknet-lgb-scem-n-blank-guide-backbone

Each seed's trained arm (``<study>/seed<N>/<arm>/weights/best.pt``, as benchmarks/seeds.py leaves it) runs on every
test image of the data it trained on (with its own LAMs), letterboxed to the size it trained at (image and LAM alike,
as the pair loader does). An image counts when the model predicts a box wider and taller than ``--frac`` of the image
at confidence ≥ ``--conf`` (detect.py's default 0.25): in the demo's labels no box is larger than 0.6 × 0.6 of the
image, so such a box is always wrong, and it is what a user sees first (on NEU-DET it is not: pitted-surface labels
often span the image). For models with SCEM the script also reports, on the flagged images against the others, the
largest ``|S^h ⊗ S^v|`` (Eq. 9's product, the input of SCEM's first 1×1 conv) of each SCEM: a product of two branch
outputs grows with the square of its input, so an input a few times its usual size leaves it far larger. Writes
benchmarks/results/oversized-boxes-<study>-<date>.md (or --out).
"""
import argparse
import datetime
import sys
from pathlib import Path

import numpy as np
import torch
import yaml
from yolov5.utils.augmentations import letterbox

import lagnet_modules
from lagnet_modules.data.images import list_images, read_image
from lagnet_modules.data.layout import LamLayout
from lagnet_modules.data.pairs import letterbox as letterbox_pair, stack_pair, to_network
from lagnet_modules.scem import SCEM
from lagnet_modules.yolo.compat import check_dataset, load_checkpoint
from report import result_path


def product_peaks(model):
    """{SCEM layer index: [largest |S^h ⊗ S^v| of each forward]} filled as ``model`` runs (a hook on each SCEM's
    first 1×1 conv, whose input Eq. 9's merge is)."""
    peaks = {}
    for layer in model.model:
        if isinstance(layer, SCEM):
            record = peaks.setdefault(layer.i, [])
            layer.mix.register_forward_pre_hook(lambda _, args, r=record: r.append(args[0].abs().max().item()))
    return peaks


def probe(weights, frac, conf):
    """(flagged stems with their top confidence, {SCEM index: (peaks on flagged, peaks on the others)}) for one arm."""
    run = Path(weights).parents[1]
    trained = yaml.safe_load((run / 'opt.yaml').read_text())
    data_file, imgsz = trained['data'], trained['imgsz']
    d = check_dataset(data_file)
    checkpoint = load_checkpoint(weights)
    model = (checkpoint.get('ema') or checkpoint['model']).float().eval()
    six = model.yaml.get('ch', 3) == 6
    layout = LamLayout.from_data(d) if six else None
    peaks = product_peaks(model)
    flagged, images = {}, list_images(d['test'])[0]
    for image in images:
        im = read_image(image)
        if six:
            boxed, _, (dw, dh) = letterbox_pair(stack_pair(im, read_image(layout.path(image))), imgsz, auto=False)
        else:
            boxed, _, (dw, dh) = letterbox(im, imgsz, auto=False)
        x = torch.from_numpy(to_network(boxed))[None].float() / 255  # the loaders' channel order, RGB first
        with torch.no_grad():
            p = model(x)[0][0]  # (N, 5 + nc): xywh in pixels, objectness, class scores
        score = (p[:, 4:5] * p[:, 5:]).amax(1)
        width, height = x.shape[3] - 2 * dw, x.shape[2] - 2 * dh  # the image inside the letterbox
        big = (p[:, 2] > frac * width) & (p[:, 3] > frac * height) & (score >= conf)
        if big.any():
            flagged[Path(image).stem] = score[big].max().item()
    hit = np.array([Path(i).stem in flagged for i in images])
    by_scem = {k: (np.array(v)[hit], np.array(v)[~hit]) for k, v in peaks.items()}
    return flagged, by_scem, len(images)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--study', required=True, type=Path, help='a benchmarks/seeds.py run folder (runs/seeds/<name>)')
    ap.add_argument('--seeds', nargs='+', type=int, required=True)
    ap.add_argument('--arms', nargs='+', required=True, help="run names in each seed's folder, e.g. guide")
    ap.add_argument('--frac', type=float, default=0.6, help='a box wider and taller than this fraction of the image')
    ap.add_argument('--conf', type=float, default=0.25, help="confidence it must reach (detect.py's default)")
    ap.add_argument('--out', type=Path)
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    torch.set_grad_enabled(False)
    rows, scem_rows = [], []
    for arm in opt.arms:
        counts, names = [], []
        for seed in opt.seeds:
            weights = opt.study / f'seed{seed}' / arm / 'weights' / 'best.pt'
            if not weights.is_file():
                sys.exit(f'{weights}: no trained arm there; train it first with benchmarks/seeds.py')
            flagged, by_scem, n = probe(weights, opt.frac, opt.conf)
            counts.append(len(flagged))
            names.append(', '.join(f'{s} ({c:.2f})' for s, c in flagged.items()) or '—')
            for k, (hit, rest) in by_scem.items():
                if len(hit):
                    scem_rows.append(f'| {arm} | {seed} | {k} | {hit.max():.0f} (median {np.median(hit):.0f}) | '
                                     f'{np.median(rest):.0f} (max {rest.max():.0f}) |')
        rows.append(f'| {arm} | {sum(counts)} of {n * len(opt.seeds)} | {" / ".join(map(str, counts))} | '
                    f'{"; ".join(names)} |')
    out = opt.out or result_path(f'oversized-boxes-{opt.study.name}')
    text = [f'# Oversized boxes — {opt.study}, seeds {opt.seeds}, {datetime.date.today()}', '',
            f'Test images where the arm predicts a box wider and taller than {opt.frac:g} of the image at confidence '
            f'≥ {opt.conf:g}. Command: `python benchmarks/oversized_boxes.py {" ".join(sys.argv[1:] if argv is None else argv)}`',
            '', '| arm | images | per seed | images (top confidence) |', '|---|---|---|---|', *rows]
    if scem_rows:
        text += ['', "Largest |S^h ⊗ S^v| (SCEM's Eq. 9 product) on the flagged images against the median over the "
                 "others, per SCEM layer:", '', '| arm | seed | SCEM layer | flagged images | other images |',
                 '|---|---|---|---|---|', *scem_rows]
    out.write_text('\n'.join(text) + '\n')
    print('\n'.join(text) + f'\n\nWritten to {out}')


if __name__ == '__main__':
    main()
