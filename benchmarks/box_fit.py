"""Found but loosely boxed, or not found? Test AP at looser IoU thresholds for the arms of a seeds.py study (issue 11).

    python benchmarks/box_fit.py --study runs/seeds/demo-s60-e60 --seeds 0 1 2 3 4 \
        --arms guide dual-cspdarknet-lgb-scem-n-guide dual-cspdarknet-lgb-scem-n-blank --iou 0.1 0.25 0.5

Each seed's trained arm (``<study>/seed<N>/<arm>/weights/best.pt``, as benchmarks/seeds.py leaves it) is validated on
the test split of the data it trained on (its own LAMs), with stock val.py's predictions saved (``--save-txt
--save-conf``, into ``<study>/seed<N>/box-fit/<arm>``); they are then matched to the labels by stock YOLOv5's own
``process_batch`` at each ``--iou`` threshold and scored by its ``ap_per_class`` (so the 0.5 column is val.py's
mAP@0.5). A class whose AP climbs from IoU 0.5 to 0.25 is found but boxed loosely (a long thin defect boxed in parts,
or with a box too short or too wide); a class low at 0.1 too is not found. A second table counts the boxes drawn per
label (:func:`box_counts`): more than one is a defect boxed twice or in parts. Writes
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
from report import fmt, result_path


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


def box_counts(predictions, labels, nc, conf=0.25):
    """(nc, 4) per class: the labels, then the predicted boxes at confidence ≥ ``conf`` (detect.py's default) whose
    best IoU with a label of their class is ≥ 0.5, in [0.1, 0.5) (a part of a defect, or a loose box), < 0.1.
    Same inputs as :func:`ap_at`."""
    import torch
    from yolov5.utils.general import xywh2xyxy
    from yolov5.utils.metrics import box_iou
    counts = np.zeros((nc, 4), int)
    for stem, lab in labels.items():
        np.add.at(counts[:, 0], lab[:, 0].astype(int), 1)
        pred = predictions.get(stem, np.zeros((0, 6)))
        pred = pred[pred[:, 5] >= conf]
        for c in np.unique(pred[:, 0]).astype(int):
            p, q = pred[pred[:, 0] == c, 1:5], lab[lab[:, 0] == c, 1:5]
            best = box_iou(torch.tensor(xywh2xyxy(p)), torch.tensor(xywh2xyxy(q))).amax(1).numpy() if len(q) else \
                np.zeros(len(p))
            counts[c, 1:] += (best >= 0.5).sum(), ((best >= 0.1) & (best < 0.5)).sum(), (best < 0.1).sum()
    return counts


def arm_boxes(study, seed, arm, device=''):
    """Predictions and labels ({stem: array}, as :func:`ap_at` takes them) of one trained arm on its test split, and
    the class names."""
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
    return predictions, labels, [d['names'][k] for k in sorted(d['names'])]  # check_dataset makes names a dict


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
    results, counts = {}, {}
    for arm in opt.arms:
        per_seed = [arm_boxes(study, s, arm, opt.device) for s in opt.seeds]
        names = per_seed[0][2]
        results[arm] = np.stack([ap_at(p, q, opt.iou, len(names)) for p, q, _ in per_seed])  # (seeds, nc, ious)
        counts[arm] = np.stack([box_counts(p, q, len(names)) for p, q, _ in per_seed])  # (seeds, nc, 4)
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
    lines += ['', textwrap.fill("Boxes per label: val.py's boxes (NMS at IoU 0.6; detect.py's 0.45 may merge more) "
                                "at confidence ≥ 0.25 (detect.py's default), by their best IoU with a label of their "
                                'class, mean ± std over seeds: more than one box per label is a defect boxed twice or '
                                'in parts.', 118), '',
              '| arm | class | labels | boxes | IoU ≥ 0.5 | IoU 0.1-0.5 | IoU < 0.1 |', '|---|---|---|---|---|---|---|']
    for arm, n in counts.items():
        for c, name in [(slice(None), 'all'), *enumerate(names)]:
            k = n[:, c].reshape(len(opt.seeds), -1, 4).sum(1)  # (seeds, 4)
            per_label = k[:, 1:] / np.maximum(k[:, :1], 1)
            lines.append(f'| {arm if name == "all" else ""} | {name} | {k[0, 0]} | {fmt(per_label.sum(1), 1, 2)} | '
                         + ' | '.join(fmt(per_label[:, i], 1, 2) for i in range(3)) + ' |')
    command = ' '.join(argv if argv is not None else sys.argv[1:])
    lines += ['', f'Reproduce: `python benchmarks/box_fit.py {command}`', '']
    name = opt.out or f'box-fit-{study.name}'
    out = result_path(name)
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
