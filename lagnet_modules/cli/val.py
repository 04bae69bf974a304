"""Validate a YOLOv5 or LAGNet checkpoint with stock YOLOv5's validator (every stock flag works).

    python val.py --weights runs/train/exp/weights/best.pt --data neu.yaml [--task test]

Prints P, R, mAP@0.5 and mAP@0.5:0.95 overall and per class, the parameter count, and ms per image for
pre-process, inference and NMS; saves the PR curve, the confusion matrix and metrics.json (the same numbers, for
scripts) under runs/val/exp*. A LAGNet checkpoint validates on RGB+LAM pairs (make the LAMs with gen_lam.py).
"""
import json
from pathlib import Path

import numpy as np

from ..data.pairs import PairSpec, building_pairs
from ..yolo import compat
from . import common


def metrics(results, speed, record, names, weights, params):
    """The metrics.json dict: overall and per-class P, R, mAP@0.5, mAP@0.5:0.95, instances; ms per image."""
    mp, mr, map50, map5095 = (float(x) for x in results[:4])
    out = {'weights': str(weights), 'params': params,
           'all': {'P': mp, 'R': mr, 'mAP50': map50, 'mAP50-95': map5095},
           'classes': {}, 'speed_ms': dict(zip(('preprocess', 'inference', 'nms'), map(float, speed[:3])))}
    if record:
        (_, _, p, r, _, ap, classes), target_cls = record[-1]
        instances = np.bincount(target_cls.astype(int), minlength=len(names))
        out['all']['instances'] = int(instances.sum())
        for i, c in enumerate(classes):
            out['classes'][names[int(c)]] = {'P': float(p[i]), 'R': float(r[i]), 'mAP50': float(ap[i, 0]),
                                             'mAP50-95': float(ap[i].mean()), 'instances': int(instances[int(c)])}
    return out


def warn_if_other_lams(weights, ckpt, opt):
    """LAGNet reads the kind of map it trained on: say so when the LAMs validated on come from another guide or
    blend (a deliberate LAM swap is fine, a stale LAM folder is not)."""
    from yolov5.utils.general import LOGGER
    trained = common.lam_manifest(ckpt)
    reading = common.split_lam_manifest(opt.data, opt.task if opt.task in ('train', 'val', 'test') else 'val')
    if common.lams_differ(trained, reading):
        LOGGER.warning(f'WARNING ⚠️ {weights} was trained on {common.describe_lams(trained)}, but the LAMs here are '
                       f'{common.describe_lams(reading)}: this measures it on other maps. To validate it as '
                       f'trained, remake them: {common.gen_lam_command(trained, opt.data)}')


def run(argv):
    """Validate as the command line ``argv`` says; returns the metrics dict also written to metrics.json."""
    import yolov5.val as stock
    from yolov5.utils.general import increment_path
    common.require(argv, weights=common.WEIGHTS_HINT, data='e.g. --data neu.yaml')
    argv = common.resolving(argv, '--data', 'data')  # stock parse_opt checks the file itself
    opt = common.stock_opt(stock.parse_opt, 'val.py', argv)
    weights = common.first_weights(opt)
    model, ckpt = common.checkpoint_model(weights) if common.is_checkpoint(weights) else (None, {})  # exported: RGB
    if opt.task in ('train', 'val', 'test'):
        common.require_images(opt.data, (opt.task,))
    data = common.data_yaml(opt.data)
    spec = PairSpec.of(model.yaml.get('ch', 3) if model is not None else 3, data)
    if spec.paired:
        warn_if_other_lams(weights, ckpt, opt)
    with building_pairs(spec):
        if opt.task not in ('train', 'val', 'test'):  # speed / study: stock main reads the command line itself
            return common.stock_opt(stock.main, 'val.py', argv)
        save_dir = increment_path(Path(opt.project) / opt.name, exist_ok=opt.exist_ok)
        opt.name, opt.exist_ok = save_dir.name, True  # stock saves into the folder chosen here
        opt.verbose = True  # per-class metrics, whatever the number of classes
        record = []
        with compat.recording_metrics(lambda result, target_cls: record.append((result, target_cls))):
            results, _, _, speed = stock.run(**vars(opt))
    names = data['names'] if isinstance(data['names'], list) else [data['names'][i] for i in sorted(data['names'])]
    params = sum(p.numel() for p in model.parameters()) if model is not None else None
    out = metrics(results, speed, record, names, weights, params)
    save_dir.mkdir(parents=True, exist_ok=True)
    (save_dir / 'metrics.json').write_text(json.dumps(out, indent=2) + '\n')
    return out


def main(argv=None):
    return common.main('val.py', run, argv, stock='yolov5.val', doc=__doc__)
