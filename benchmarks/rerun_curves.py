"""Validation curves of runs re-trained to re-measure their validation, spliced onto the originals (issue 11).

    python benchmarks/rerun_curves.py --seeds 0 1 2 \
        --original runs/seeds/neu-yolov5n-40e-128px/seed{seed}/dual-cspdarknet-lgb-scem-n-blank \
        --rerun runs/rerun-nms/seed{seed}/dual-cspdarknet-lgb-scem-n-blank \
        --compare runs/seeds/neu-yolov5n-40e-128px/seed{seed}/dual-cspdarknet-lgb-scem-n-guide

Training on CPU with a fixed ``--seed`` is deterministic, so a rerun of the same command repeats the original's
training to the last digit and differs only where its validation did (e.g. epochs that stock NMS's time limit cut,
fixed since in ``compat``). A rerun may be stopped early: its epochs replace the original's, the original's later
epochs complete the curve. The script refuses to splice unless every rerun epoch's training losses equal the
original's, says which epochs' validation changed, and prints start (epochs to 10 % validation mAP@0.5) and the
quarters (benchmarks/seeds.py's columns) for the spliced curve, the original and each ``--compare`` run.
"""
import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from seeds import first_epoch, quarters, val_curve

LOSSES = ('train/box_loss', 'train/obj_loss', 'train/cls_loss')


def run_folder(run):
    """``run`` as a Path; exits with one line unless it holds the results.csv train.py leaves."""
    path = Path(run)
    if not (path / 'results.csv').is_file():
        sys.exit(f'rerun_curves.py: {path / "results.csv"} not found; pass training run folders (runs/.../NAME, with '
                 '{seed} for the seed), as train.py leaves them')
    return path


def training_losses(run):
    """The training losses of each epoch as results.csv prints them (compared as text: to the last digit)."""
    with open(run / 'results.csv') as f:
        return [tuple(v.strip() for k, v in r.items() if k.strip() in LOSSES) for r in csv.DictReader(f)]


def splice(original, rerun):
    """(spliced curve, original curve, epochs whose validation differs); exits with one line if the rerun trained
    differently."""
    differs = [i + 1 for i, (a, b) in enumerate(zip(training_losses(original), training_losses(rerun))) if a != b]
    if differs:
        sys.exit(f'rerun_curves.py: {rerun} trained differently from {original} (epoch {differs[0]}: training '
                 f'losses differ); rerun the original command with the same --seed, threads and code')
    old, new = val_curve(original), val_curve(rerun)
    return new + old[len(new):], old, [i + 1 for i, (a, b) in enumerate(zip(old, new)) if a != b]


def summary(name, curves):
    """One table row: start (per seed in brackets) and quarters, mean ± sample std over seeds."""
    def cell(values):
        return f'{np.mean(values):.1f} ± {np.std(values, ddof=1) if len(values) > 1 else 0:.1f}'
    start = [first_epoch(c) for c in curves]
    q = 100 * np.array([quarters(c) for c in curves])
    cells = [f'{cell(start)} ({", ".join(map(str, start))})'] + [cell(q[:, i]) for i in range(q.shape[1])]
    return f'| {name} | ' + ' | '.join(cells) + ' |'


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seeds', type=int, nargs='+', required=True)
    ap.add_argument('--original', required=True, help='run folder with {seed}')
    ap.add_argument('--rerun', required=True, help='run folder with {seed}')
    ap.add_argument('--compare', nargs='*', default=[], help='other run folders with {seed}')
    opt = ap.parse_args()
    spliced, original, compare = [], [], {c: [] for c in opt.compare}
    for seed in opt.seeds:
        o, r = run_folder(opt.original.format(seed=seed)), run_folder(opt.rerun.format(seed=seed))
        c, old, changed = splice(o, r)
        spliced.append(c)
        original.append(old)
        print(f'seed {seed}: training identical over the rerun epochs; validation changed in epochs {changed}')
        for name in compare:
            compare[name].append(val_curve(run_folder(name.format(seed=seed))))
    print('\n| run | start (epochs) | val mAP@0.5 at 1/4 | 1/2 | 3/4 | end |\n|---|---|---|---|---|---|')
    print(summary(f'{opt.original} re-validated', spliced))
    print(summary(f'{opt.original} as first measured', original))
    for name, curves in compare.items():
        print(summary(name, curves))


if __name__ == '__main__':
    main()
