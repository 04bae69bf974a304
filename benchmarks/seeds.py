"""Does the guidance pay beyond noise? The same comparison over several seeds (issue 11, H2 and H3).

    python benchmarks/seeds.py --data synthetic.yaml --seeds 0 1 2 --epochs 80 --imgsz 128 --batch 8 \
        --train-args --hyp hyp.demo.yaml

For each seed: the guide YOLOv5 (the baseline) trains; its LAMs are made for every split into a seed's own LAM
folder (the paper's protocol: training LAMs from a guide that saw those images); LAGNet trains on them, and the same
LAGNet trains on blank LAMs (the image in both branches: no location information). Every model is validated on the
test split. Reports mean ± std over seeds of test mAP@0.5 and mAP@0.5:0.95, and of the validation mAP@0.5 of the
last 3 epochs (from results.csv), beside each seed's numbers. Writes benchmarks/results/seeds-<name>-<date>.md.
Finished stages are reused.
"""
import argparse
import csv
import datetime
import json
import sys
from pathlib import Path

import numpy as np
import yaml

import lagnet_modules
from lagnet_modules.cli import pipeline
from lagnet_modules.paths import find_file


def last_epochs(run, n=3):
    """Mean validation mAP@0.5 over the last ``n`` epochs of a training run (results.csv)."""
    with open(run / 'results.csv') as f:
        rows = [{k.strip(): v for k, v in r.items()} for r in csv.DictReader(f)]
    return float(np.mean([float(r['metrics/mAP_0.5']) for r in rows[-n:]]))


def data_variant(data, lams, out):
    """``data`` with its own ``lams:`` folder name, written to ``out``."""
    d = yaml.safe_load(find_file(data, 'data').read_text())
    d['path'] = str(Path(d['path']).resolve())
    d['lams'] = lams
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(d, sort_keys=False))
    return out


def run_seed(seed, opt, root):
    run_dir = root / f'seed{seed}'
    stem = Path(opt.data).stem
    guided = data_variant(opt.data, f'lams-{opt.name}-seed{seed}', run_dir / f'{stem}-guided.yaml')
    blank = data_variant(opt.data, f'lams-{opt.name}-blank', run_dir / f'{stem}-blank.yaml')
    common = argparse.Namespace(**{**vars(opt), 'seed': seed})
    guide = pipeline.train(run_dir, 'guide', opt.guide_cfg, argparse.Namespace(**{**vars(common), 'data': opt.data}),
                           opt.epochs)
    pipeline.lams(guide, argparse.Namespace(**{**vars(common), 'data': str(guided)}), run_dir)
    if not (run_dir / 'gen_lam_blank.json').is_file():
        pipeline.sh('gen_lam', '--weights', guide, '--data', blank, '--imgsz', opt.imgsz, '--alpha', 1, '--beta', 0,
                    log=run_dir / 'gen_lam_blank.log')
    runs = {'guide': guide}
    for name, data in (('guided', guided), ('blank', blank)):
        runs[name] = pipeline.train(run_dir, name, opt.cfg, argparse.Namespace(**{**vars(common), 'data': str(data)}),
                                    opt.epochs)
    out = {}
    for name, weights in runs.items():
        data = {'guide': opt.data, 'guided': str(guided), 'blank': str(blank)}[name]
        m = pipeline.validate(weights, name, argparse.Namespace(**{**vars(common), 'data': data}), run_dir)
        out[name] = {'mAP50': m['all']['mAP50'], 'mAP50-95': m['all']['mAP50-95'],
                     'last3_val_mAP50': last_epochs(Path(weights).parents[1]),
                     'classes': {c: v['mAP50'] for c, v in m['classes'].items()}}
    return out


def fmt(values):
    v = 100 * np.array(values)
    return f'{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='synthetic.yaml')
    ap.add_argument('--cfg', default='lagnet-s.yaml')
    ap.add_argument('--guide-cfg', default='yolov5n.yaml')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--epochs', type=int, default=80)
    ap.add_argument('--imgsz', type=int, default=128)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--device', default='')
    ap.add_argument('--name', help='default <data>-<cfg>-<epochs>e')
    ap.add_argument('--train-args', nargs=argparse.REMAINDER, default=[])
    opt = ap.parse_args(argv)
    opt.name = opt.name or f'{Path(opt.data).stem}-{Path(opt.cfg).stem}-{opt.epochs}e'
    lagnet_modules.install()
    root = Path('runs') / 'seeds' / opt.name
    results = {seed: run_seed(seed, opt, root) for seed in opt.seeds}
    (root / 'results.json').write_text(json.dumps(results, indent=2))
    models = {'guide': f'{Path(opt.guide_cfg).stem} (guide, RGB)', 'guided': f'{Path(opt.cfg).stem}, guide LAMs',
              'blank': f'{Path(opt.cfg).stem}, blank LAMs'}
    lines = [f'# Seeds — {opt.data}, {opt.epochs} epochs, {opt.imgsz} px, batch {opt.batch}, '
             f'{datetime.date.today().isoformat()}', '',
             f'Seeds {opt.seeds}; test split; mean ± std (sample std) over seeds, in %. Last 3: mean validation '
             'mAP@0.5 of the last three epochs. Train args: `' + ' '.join(opt.train_args) + '`', '',
             '| model | mAP@0.5 | mAP@0.5:0.95 | last 3 (val) | per seed mAP@0.5 |', '|---|---|---|---|---|']
    for key, label in models.items():
        r = [results[s][key] for s in opt.seeds]
        lines.append(f"| {label} | {fmt([x['mAP50'] for x in r])} | {fmt([x['mAP50-95'] for x in r])} | "
                     f"{fmt([x['last3_val_mAP50'] for x in r])} | "
                     + ', '.join(f"{100 * x['mAP50']:.1f}" for x in r) + ' |')
    classes = list(results[opt.seeds[0]]['guide']['classes'])
    lines += ['', '| mAP@0.5 per class | ' + ' | '.join(models.values()) + ' |', '|---|' + '---|' * len(models)]
    for c in classes:
        lines.append(f'| {c} | ' + ' | '.join(fmt([results[s][k]['classes'].get(c, float('nan')) for s in opt.seeds])
                                              for k in models) + ' |')
    command = ' '.join(argv if argv is not None else sys.argv[1:])
    lines += ['', f'Reproduce: `python benchmarks/seeds.py {command}`', '']
    out = Path(__file__).parent / 'results' / f'seeds-{opt.name}-{datetime.date.today().isoformat()}.md'
    out.write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
