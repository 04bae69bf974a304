"""Found but loosely boxed, or not found? Test AP at looser IoU thresholds for the arms of a seeds.py study (issue 11).

    python benchmarks/box_fit.py --study runs/seeds/demo-s60-e60 --seeds 0 1 2 3 4 \
        --arms guide dual-cspdarknet-lgb-scem-n-guide dual-cspdarknet-lgb-scem-n-blank --iou 0.1 0.25 0.5

Each seed's trained arm (``<study>/seed<N>/<arm>/weights/best.pt``, as benchmarks/seeds.py leaves it) is validated on
the test split of the data it trained on (its own LAMs), with stock val.py's predictions saved (``--save-txt
--save-conf``, into ``<study>/seed<N>/box-fit/<arm>``); they are then matched to the labels by stock YOLOv5's own
``process_batch`` at each ``--iou`` threshold and scored by its ``ap_per_class`` (so the 0.5 column is val.py's
mAP@0.5). A class whose AP climbs from IoU 0.5 to 0.25 is found but boxed loosely (a long thin defect boxed in parts,
or with a box too short or too wide); a class low at 0.1 too is not found. Writes
benchmarks/results/box-fit-<study>-<date>.md (or --out).
"""
import argparse
import datetime
import shutil
import sys
import textwrap
from pathlib import Path

import numpy as np
import yaml

import lagnet_modules
from lagnet_modules.cli import pipeline
from lagnet_modules.data.images import list_images
from seeds import fmt


def read_boxes(file, columns):
    """(N, columns) float array of a YOLO-format txt file; (0, columns) when it is missing or empty."""
    return np.loadtxt(file, ndmin=2).reshape(-1, columns) if Path(file).is_file() else np.zeros((0, columns))


def ap_at(predictions, labels, ious, nc):
    """AP per class (nc, len(ious)) from {stem: (N, 6) cls x y w h conf} predictions and {stem: (M, 5) cls x y w h}
    labels, all normalised xywh (IoU does not change when both axes are scaled). NaN for a class without labels."""
    import torch
    from yolov5.utils.general import xywh2xyxy
    from yolov5.utils.metrics import ap_per_class
    from yolov5.val import process_batch
    iouv = torch.tensor(ious, dtype=torch.float32)
    stats = []
    for stem, lab in labels.items():
        pred = predictions.get(stem, np.zeros((0, 6)))
        pred = pred[np.argsort(-pred[:, 5], kind='stable')]  # process_batch expects NMS's order, best first
        detections = torch.tensor(np.c_[xywh2xyxy(pred[:, 1:5]), pred[:, 5], pred[:, 0]], dtype=torch.float32)
        targets = torch.tensor(np.c_[lab[:, :1], xywh2xyxy(lab[:, 1:5])], dtype=torch.float32)
        correct = process_batch(detections, targets, iouv).numpy() if len(pred) and len(lab) else \
            np.zeros((len(pred), len(ious)), bool)
        stats.append((correct, pred[:, 5], pred[:, 0], lab[:, 0]))
    tp, conf, pred_cls, target_cls = (np.concatenate(x) for x in zip(*stats))
    *_, ap, classes = ap_per_class(tp, conf, pred_cls, target_cls, names={c: str(c) for c in range(nc)})
    out = np.full((nc, len(ious)), np.nan)
    out[classes] = ap
    return out


def arm_ap(study, seed, arm, ious, device=''):
    """AP per class at ``ious`` of one trained arm on its test split, and the class names."""
    run_dir = study / f'seed{seed}'
    weights = run_dir / arm / 'weights' / 'best.pt'
    if not weights.is_file():
        sys.exit(f'{weights}: no trained arm there; train it first with benchmarks/seeds.py')
    trained = yaml.safe_load((run_dir / arm / 'opt.yaml').read_text())
    out = run_dir / 'box-fit' / arm
    if not (out / 'done').is_file():  # val.py appends to its txt files: a half-finished folder would count twice
        shutil.rmtree(out, ignore_errors=True)
        pipeline.sh('val', '--weights', weights, '--data', trained['data'], '--imgsz', trained['imgsz'], '--task',
                    'test', '--save-txt', '--save-conf', '--project', out.parent, '--name', arm, '--exist-ok',
                    *(['--device', device] if device else []), log=out.parent / f'{arm}.log')
        (out / 'done').touch()
    from yolov5.utils.dataloaders import img2label_paths
    from yolov5.utils.general import check_dataset
    d = check_dataset(trained['data'])
    images, _ = list_images(d['test'])
    labels = {Path(i).stem: read_boxes(f, 5) for i, f in zip(images, img2label_paths(images))}
    predictions = {f.stem: read_boxes(f, 6) for f in (out / 'labels').glob('*.txt')}
    names = [d['names'][k] for k in sorted(d['names'])]  # check_dataset makes names a dict
    return ap_at(predictions, labels, ious, len(names)), names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--study', required=True, help='a benchmarks/seeds.py run folder, runs/seeds/<name>')
    ap.add_argument('--arms', nargs='+', required=True, help='trained arms, e.g. guide '
                    'dual-cspdarknet-lgb-scem-n-guide')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--iou', type=float, nargs='+', default=[0.1, 0.25, 0.5], help='IoU thresholds')
    ap.add_argument('--device', default='')
    ap.add_argument('--out', help='table name (default box-fit-<study>)')
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    study = Path(opt.study)
    results = {}
    for arm in opt.arms:
        per_seed = [arm_ap(study, s, arm, opt.iou, opt.device) for s in opt.seeds]
        names = per_seed[0][1]
        results[arm] = np.stack([r[0] for r in per_seed])  # (seeds, nc, ious)
    head = ' | '.join(f'IoU {t:g}' for t in opt.iou)
    lines = [f'# Box fit — {study.name}, {datetime.date.today().isoformat()}', '',
             textwrap.fill(f'Test split, seeds {opt.seeds}: AP in % (mean ± std over seeds) at each IoU threshold, '
                           'predictions matched by stock YOLOv5 (the 0.5 column is val.py\'s mAP@0.5). See '
                           '`benchmarks/box_fit.py`.', 118), '',
             f'| arm | class | {head} |', '|---|---|' + '---|' * len(opt.iou)]
    for arm, ap_ in results.items():
        lines.append(f'| {arm} | all | ' + ' | '.join(fmt(np.nanmean(ap_[:, :, i], 1)) for i in range(len(opt.iou)))
                     + ' |')
        for c, name in enumerate(names):
            lines.append(f'| | {name} | ' + ' | '.join(fmt(ap_[:, c, i]) for i in range(len(opt.iou))) + ' |')
    command = ' '.join(argv if argv is not None else sys.argv[1:])
    lines += ['', f'Reproduce: `python benchmarks/box_fit.py {command}`', '']
    name = opt.out or f'box-fit-{study.name}'
    out = Path(__file__).parent / 'results' / f'{name}-{datetime.date.today().isoformat()}.md'
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
