"""Does the guidance pay beyond noise? Guide vs LAGNet variants over several seeds (issue 11: H1, H2, H3).

    python benchmarks/seeds.py --data synthetic.yaml --seeds 0 1 2 --epochs 80 --imgsz 128 --batch 8 \
        --cfg lagnet-s.yaml --lams guide blank --train-args --hyp hyp.demo.yaml

For each seed the guide YOLOv5 (the baseline) trains once; each kind of LAM in --lams is made from it for every
split into that seed's own LAM folder; every 6-channel --cfg trains on each kind, every 3-channel --cfg (a capacity
control such as mobilenetv3-small-rgb.yaml) once on the images alone. LAM kinds:

    guide   the guide's map, JET colour-coded and blended 0.5:0.5 with the image (the paper's LAM; its protocol:
            training LAMs from a guide that saw those images)
    gray    the guide's raw map alone, in grey (gen_lam --alpha 0 --beta 1 --colormap gray)
    blank   the image itself (gen_lam.py --blank): the same network with no location information
    folds   out-of-fold guide LAMs (gen_lam --folds 2: two guides, the --guide-cfg on the same schedule, each
            trained on half the training split, making the other half's LAMs; val/test LAMs from their mean map)
    dropout the guide LAMs, trained with hyp lam_dropout 0.5: each training image's LAM is replaced by the image
            itself with probability 0.5, so the image branch cannot lean on the guide's map alone
    miss    the guide LAMs, trained with hyp lam_miss 0.4: each labelled box's map is erased (a simulated guide
            miss) with probability 0.4, so the image branch learns the defects a guide misses, the map kept elsewhere
    mixup   the guide LAMs, trained with hyp mixup 0.5 (the recipe: 0.1) for a network that over-fits: image and
            LAM pairs are blended together, so LAGNet sees five times as many blended pairs as its guide

With --guide-backbone every 6-channel arm starts both branches from its seed's trained guide (train.py
--backbone-weights; dual-CSPDarkNet configs of the guide's width) instead of from scratch.

Every model is validated on the test split. Reports mean ± std over seeds of test mAP@0.5 and mAP@0.5:0.95, and of
the validation mAP@0.5 of the last 3 epochs (results.csv), and the epochs it took validation mAP@0.5 to reach 10 %
(the slow start, H1), beside each seed's numbers, then per class, then the mean validation curve at each quarter
of the schedule. Runs live in
runs/seeds/<data>-<guide>-<epochs>e/seed<N>/<cfg>-<lams>; finished stages are reused (an interrupted training resumes
from its last.pt), so arms can be added later
(or trained by parallel invocations, one per seed, once the seeds' guides and LAMs exist: the blank LAMs, shared by
all seeds, are made once) and the table rebuilt from all of them.
Writes benchmarks/results/seeds-<name>-<date>.md (beside it, -2, -3, ..., once that file has a written reading),
and each seed's arms, as each is measured, to benchmarks/results/records/seeds-<name>-seed<N>.json (committed; each
arm stamped with the CPU and date it was measured on). runs/ does not outlive a session's machine, so a study too
long for one session runs one seed (or arm) per session and is tabulated from the records (--tabulate: runs/ where
present, the records elsewhere). Where runs/ lacks it, an arm in its seed's record is not trained again (delete it
from the record to measure it anew), nor is a recorded guide for arms that never read its maps (--lams blank,
RGB-only --cfg): the blank-LAM twin of a seed can follow its guide in a later session.
"""
import argparse
import csv
import datetime
import functools
import json
import platform
import sys
from pathlib import Path

import numpy as np

import lagnet_modules
import variants
from lagnet_modules.cli import pipeline
from lagnet_modules.cli.common import input_channels
from lagnet_modules.paths import find_file
from report import RESULTS, fmt, result_path

LAMS = {'guide': ('guide LAMs', []),
        'gray': ('grey raw-map LAMs', ['--alpha', 0, '--beta', 1, '--colormap', 'gray']),
        'blank': ('blank LAMs', pipeline.BLANK),
        'folds': ('2-fold guide LAMs', None),
        'dropout': ('guide LAMs, lam_dropout 0.5', None),
        'miss': ('guide LAMs, lam_miss 0.4', None),
        'mixup': ('guide LAMs, mixup 0.5', None)}
TRAINS_ON = {'dropout': 'guide', 'miss': 'guide', 'mixup': 'guide'}  # kinds that read another kind's LAMs, with their own training hyp
# lam_miss 0.4: about the share of test boxes the 40-epoch yolov5s guide misses (its test recall 0.56-0.58, 3 seeds)
# mixup 0.5: the paper turns Mixup on without a rate; the recipe's 0.1 is hyp.scratch-high's
HYP = {'dropout': {'lam_dropout': 0.5}, 'miss': {'lam_miss': 0.4}, 'mixup': {'mixup': 0.5}}
RECORDS = RESULTS / 'records'


def val_curve(run):
    """Validation mAP@0.5 per epoch of a training run (its results.csv)."""
    with open(run / 'results.csv') as f:
        return [float({k.strip(): v for k, v in r.items()}['metrics/mAP_0.5']) for r in csv.DictReader(f)]


def first_epoch(curve, level=0.1):
    """Epochs until validation mAP@0.5 first reaches ``level`` (how slow the start is; len + 1 if never)."""
    return next((i + 1 for i, v in enumerate(curve) if v >= level), len(curve) + 1)


def quarters(curve):
    """Validation mAP@0.5 at 1/4, 1/2, 3/4 and the end of the schedule: whether a model is still climbing, and
    where two models' curves cross (what a longer schedule would show)."""
    return [curve[max(round(q * len(curve)), 1) - 1] for q in (0.25, 0.5, 0.75, 1)]


def with_hyp(train_args, values, out):
    """The hyp file ``train_args`` train with (the last --hyp, else the recipe's), with ``values`` set, at ``out``."""
    import yaml
    args = [*pipeline.RECIPE, *train_args]
    name = [value for flag, value in zip(args, args[1:]) if flag == '--hyp'][-1]
    hyp = yaml.safe_load(find_file(name, 'data/hyps').read_text())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump({**hyp, **values}, sort_keys=False))
    return str(out)


def arms(opt):
    """(run name, cfg, LAM kind or None) for every model this invocation compares, the guide first."""
    out = [('guide', opt.guide_cfg, None)]
    for cfg in opt.cfg:
        stem = Path(cfg).stem
        six = input_channels(find_file(cfg, 'models')) == 6
        init = '-guide-backbone' if opt.guide_backbone else ''
        out += [(f'{stem}-{k}{init}', cfg, k) for k in opt.lams] if six else [(stem, cfg, None)]
    return out


def run_seed(seed, opt, root):
    run_dir = root / f'seed{seed}'
    common = argparse.Namespace(**{**vars(opt), 'seed': seed})
    # runs/ does not outlive a session, the record does: an arm recorded in an earlier session is not trained
    # again, nor is the guide unless an arm still to train reads its maps (blank LAMs and RGB-only controls do not)
    done = recorded(opt.name, seed)
    todo = [] if opt.tabulate else [(n, c, k) for n, c, k in arms(opt) if n != 'guide' and n not in done]
    guide_read = any(TRAINS_ON.get(k, k) not in (None, 'blank') or (k and opt.guide_backbone) for _, _, k in todo)
    reuse_guide = opt.tabulate or (not guide_read and 'guide' in done)
    guide = run_dir / 'guide' / 'weights' / 'best.pt' if reuse_guide else pipeline.train(
        run_dir, 'guide', opt.guide_cfg, common, opt.guide_epochs or opt.epochs)
    data = {None: opt.data}
    for kind in {TRAINS_ON.get(k, k) for _, _, k in todo} - {None}:
        folder = f'lams-{opt.name}-blank' if kind == 'blank' else f'lams-{opt.name}-seed{seed}' + (
            '' if kind == 'guide' else f'-{kind}')  # blank LAMs do not depend on the guide: one folder for all seeds
        data[kind] = pipeline.with_lams(opt.data, folder, run_dir / f'{Path(opt.data).stem}-{kind}.yaml')
        made = (root if kind == 'blank' else run_dir) / f'gen_lam_{kind}'  # one record per LAM folder
        if not pipeline.succeeded(made):
            if kind == 'folds':  # --train-args last: it takes the rest
                source = ['--folds', 2, '--save-map', '--guide-cfg', opt.guide_cfg, '--guide-epochs',
                          opt.guide_epochs or opt.epochs, '--seed', seed, '--project', run_dir / 'folds',
                          '--train-args', '--imgsz', opt.imgsz, '--batch-size', opt.batch, '--workers', opt.workers,
                          *pipeline.RECIPE, *opt.train_args]
            else:
                source = LAMS[kind][1] if kind == 'blank' else ['--weights', guide, *LAMS[kind][1]]
            pipeline.sh('gen_lam', '--data', data[kind], '--imgsz', opt.imgsz, *source,
                        log=made.with_suffix('.log'))
    out = {}
    for name, cfg, kind in arms(opt):
        if not (run_dir / 'val' / name / 'metrics.json').is_file() and (
                reuse_guide if name == 'guide' else (name, cfg, kind) not in todo):
            continue  # its record holds it
        arm = argparse.Namespace(**{**vars(common), 'data': data.get(TRAINS_ON.get(kind, kind))})
        if kind in HYP and not opt.tabulate:
            arm.train_args = [*opt.train_args, '--hyp', with_hyp(opt.train_args, HYP[kind],
                                                                 run_dir / f'hyp-{kind}.yaml')]
        if kind and opt.guide_backbone:
            arm.train_args = [*arm.train_args, '--backbone-weights', guide]
        if name == 'guide':
            weights = guide
        elif opt.tabulate:  # trains nothing: an arm brought back from another machine may lack its weights
            weights = run_dir / name / 'weights' / 'best.pt'  # (benchmarks/gpu.sh packs the guide's alone)
        else:
            weights = pipeline.train(run_dir, name, cfg, arm, opt.epochs)
        m = pipeline.validate(weights, name, arm, run_dir)
        curve = val_curve(Path(weights).parents[1])
        out[name] = {'mAP50': m['all']['mAP50'], 'mAP50-95': m['all']['mAP50-95'], 'params': m['params'],
                     'last3_val_mAP50': float(np.mean(curve[-3:])), 'start_epochs': first_epoch(curve),
                     'val_quarters': quarters(curve),
                     'classes': {c: v['mAP50'] for c, v in m['classes'].items()},
                     **measured_on(run_dir / 'val' / name / 'metrics.json', opt.device)}
        save_record(opt.name, seed, {name: out[name]})  # now: a session may end in the next arm's training
    return recorded(opt.name, seed)


@functools.cache
def this_cpu():
    """The CPU model this process runs on (read once: every arm of a run shares it)."""
    cpuinfo = Path('/proc/cpuinfo')
    model = next((line.split(':', 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith('model name')), None) if cpuinfo.is_file() else None
    return model or platform.processor() or platform.machine()


def measured_on(metrics, device=''):
    """Where and when an arm was measured: training is bit-identical on one CPU model, not across models (nor
    between a CPU and a GPU: ``device`` other than cpu adds the GPU that YOLOv5 picks for it)."""
    import torch
    date = datetime.date.fromtimestamp(Path(metrics).stat().st_mtime).isoformat()
    gpu = device != 'cpu' and torch.cuda.is_available()
    return {'cpu': this_cpu(), 'date': date, **({'gpu': torch.cuda.get_device_name()} if gpu else {})}


def record_path(name, seed):
    return RECORDS / f'seeds-{name}-seed{seed}.json'


def recorded(name, seed):
    """The arms of ``seed`` kept in its record (earlier sessions), {} if none."""
    path = record_path(name, seed)
    return json.loads(path.read_text())['arms'] if path.is_file() else {}


def save_record(name, seed, arms):
    """Merge ``arms`` (measured in runs/ now) into the seed's record, replacing arms of the same name but keeping
    their hand-written ``note`` (re-tabulating measures the same run again; an arm trained anew is deleted first)."""
    if arms:
        path = record_path(name, seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        old = recorded(name, seed)
        notes = {k: {'note': old[k]['note']} for k in arms if 'note' in old.get(k, {})}
        merged = {**old, **{k: {**v, **notes.get(k, {})} for k, v in arms.items()}}
        path.write_text(json.dumps({'seed': seed, 'arms': merged}, indent=2) + '\n')


def provenance(results, models):
    """One line per seed: which CPU (or GPU) and date each of its tabulated arms was measured on."""
    lines = []
    for seed, arms in results.items():
        where = {}
        for key in models:
            arm = arms[key]
            on = f"a {arm['gpu']} GPU (host {arm.get('cpu')})" if arm.get('gpu') else arm.get('cpu')
            on += f" ({arm['note']})" if arm.get('note') else ''  # written into the record by hand, e.g. a resumed arm
            where.setdefault((on, arm.get('date')), []).append(key)
        lines.append(f'Seed {seed}: ' + '; '.join(f"{', '.join(keys)} on {cpu}, {date}"
                                                  for (cpu, date), keys in where.items()) + '.')
    return lines


def label(name, cfg, kind):
    if name == 'guide':
        return f'{Path(cfg).stem} (guide, RGB)'
    init = ", branches from the guide's backbone" if name.endswith('-guide-backbone') else ''
    return f'{Path(cfg).stem}, {LAMS[kind][0]}{init}' if kind else f'{Path(cfg).stem} (RGB only)'


def training_command(argv, seeds):
    """This invocation's arguments without --tabulate and for ``seeds`` only: the command that measures them."""
    args = list(argv)
    if '--seeds' in args:
        i = args.index('--seeds') + 1
        while i < len(args) and args[i].isdigit():
            del args[i]
        args.remove('--seeds')
    return ' '.join(['--seeds', *map(str, seeds), *(a for a in args if a != '--tabulate')])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='synthetic.yaml')
    ap.add_argument('--cfg', nargs='*', default=['lagnet-s.yaml'],
                    help='models compared with the guide: configs or benchmarks/variants.py names (none: the guide '
                         'alone, e.g. to compare --train-args recipes)')
    ap.add_argument('--lams', nargs='+', default=['guide', 'blank'], choices=list(LAMS),
                    help='LAM kinds each 6-channel --cfg trains on')
    ap.add_argument('--guide-cfg', default='yolov5n.yaml')
    ap.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    ap.add_argument('--epochs', type=int, default=80)
    ap.add_argument('--guide-epochs', type=int, help='guide (and fold guide) epochs (default --epochs)')
    ap.add_argument('--guide-backbone', action='store_true',
                    help="6-channel arms start both branches from their seed's trained guide (train.py "
                         '--backbone-weights GUIDE.pt; dual-CSPDarkNet configs of the guide\'s width); their runs '
                         'are named <cfg>-<lams>-guide-backbone')
    ap.add_argument('--imgsz', type=int, default=128)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--device', default='')
    ap.add_argument('--name', help='default <data>-<guide>-<epochs>e')
    ap.add_argument('--out', help='table name (default seeds-<name>, seeds-<name>-seed<N> for one seed)')
    ap.add_argument('--tabulate', action='store_true', help='train nothing: tabulate the arms finished on every seed')
    ap.add_argument('--train-args', nargs=argparse.REMAINDER, default=[])
    argv = sys.argv[1:] if argv is None else list(map(str, argv))  # repeated in the table's commands
    opt = ap.parse_args(argv)
    opt.name = opt.name or f'{Path(opt.data).stem}-{Path(opt.guide_cfg).stem}-{opt.epochs}e'
    lagnet_modules.install()
    root = Path('runs') / 'seeds' / opt.name
    opt.cfg = variants.resolve_args(opt.cfg, root / 'cfgs', ap)
    results = {seed: run_seed(seed, opt, root) for seed in opt.seeds}
    models = {name: label(name, cfg, kind) for name, cfg, kind in arms(opt)
              if all(name in results[s] for s in opt.seeds)}
    if 'guide' not in models:  # every row is read against the guide's
        lacking = [s for s in opt.seeds if 'guide' not in results[s]]
        raise SystemExit(f"seeds.py: seed {', '.join(map(str, lacking))} has no finished guide in {root} or in "
                         f"{RECORDS}; run it first: python benchmarks/seeds.py "
                         f"{training_command(argv, lacking)}")
    unfinished = {name: [s for s in opt.seeds if name not in results[s]] for name, _, _ in arms(opt)
                  if name not in models}  # asked for, not measured on every seed yet: said, never dropped silently
    left_out = [f"Not tabulated, not finished on seed {', '.join(map(str, lacking))}: {name}; it trains with "
                f"`python benchmarks/seeds.py {training_command(argv, lacking)}`"
                for name, lacking in unfinished.items()]
    if left_out:
        print(*left_out, sep='\n', file=sys.stderr)
    epochs = pipeline.schedule(opt.epochs, opt.guide_epochs, 'the others')
    lines = [f'# Seeds — {opt.data}, {epochs}, {opt.imgsz} px, batch {opt.batch}, '
             f'{datetime.date.today().isoformat()}', '',
             f'Seeds {opt.seeds}; test split; mean ± std (sample std) over seeds, in %. Last 3: mean validation '
             'mAP@0.5 of the last three epochs. Start: epochs until validation mAP@0.5 first reached 10 %. '
             'Train args: `' + ' '.join(map(str, [*pipeline.RECIPE, *opt.train_args])) + '`', '',
             '| model | params | mAP@0.5 | mAP@0.5:0.95 | last 3 (val) | start (epochs) | per seed mAP@0.5 |',
             '|---|---|---|---|---|---|---|']
    for key, text in models.items():
        r = [results[s][key] for s in opt.seeds]
        lines.append(f"| {text} | {r[0]['params'] / 1e6:.2f}M | {fmt([x['mAP50'] for x in r])} | "
                     f"{fmt([x['mAP50-95'] for x in r])} | {fmt([x['last3_val_mAP50'] for x in r])} | "
                     f"{fmt([x['start_epochs'] for x in r], scale=1)} | "
                     + ', '.join(f"{100 * x['mAP50']:.1f}" for x in r) + ' |')
    classes = list(results[opt.seeds[0]]['guide']['classes'])
    lines += ['', '| mAP@0.5 per class | ' + ' | '.join(models.values()) + ' |', '|---|' + '---|' * len(models)]
    for c in classes:
        lines.append(f'| {c} | ' + ' | '.join(fmt([results[s][k]['classes'].get(c, float('nan')) for s in opt.seeds])
                                              for k in models) + ' |')
    lines += ['', '| validation mAP@0.5 at epoch | ' + ' | '.join(models.values()) + ' |', '|---|' + '---|' * len(models)]
    for i, q in enumerate(('1/4', '1/2', '3/4', 'end')):
        epoch = max(round((i + 1) / 4 * opt.epochs), 1)
        if opt.guide_epochs not in (None, opt.epochs):
            epoch = f'{epoch}, guide {max(round((i + 1) / 4 * opt.guide_epochs), 1)}'
        lines.append(f'| {epoch} ({q}) | ' + ' | '.join(fmt([results[s][k]['val_quarters'][i] for s in opt.seeds])
                                                         for k in models) + ' |')
    lines += ['', 'Measured (a table may join sessions: runs/ and the committed records, see the module doc):',
              *provenance(results, models), *left_out]
    lines += ['', f"Reproduce: `python benchmarks/seeds.py {' '.join(argv)}`", '']
    one = f'-seed{opt.seeds[0]}' if len(opt.seeds) == 1 else ''  # a per-seed invocation never overwrites the study
    name = opt.out or f'seeds-{opt.name}{one}'
    out = result_path(name, RESULTS)  # adding an arm or re-tabulating keeps the reading of the runs before
    out.write_text('\n'.join(lines))
    root.mkdir(parents=True, exist_ok=True)  # a tabulation from the records alone, in a clone without runs/
    (root / f'{out.stem}.json').write_text(json.dumps(results, indent=2))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
