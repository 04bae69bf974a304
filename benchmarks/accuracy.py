"""The paper's Table 1 protocol with our code: baseline/guide YOLOv5 -> LAMs -> LAGNet, one seed and schedule for all.

    python benchmarks/accuracy.py --data neu.yaml --preset cpu         # < 60 min on a 2-core CPU
    python benchmarks/accuracy.py --data neu.yaml --preset paper       # the full recipe (GPU)
    python benchmarks/accuracy.py --data neu.yaml --preset cpu --ablation scem-off lam-off
    python benchmarks/accuracy.py --data neu.yaml --preset cpu --ablation scem-grid   # Table 5: k x n

The baseline is also the guide (paper: yolov5l, 46.17M params; --guide-cfg yolov5s for a lighter one). Every
model is validated on the test split. Writes benchmarks/results/<dataset>-<preset>-<date>.{md,csv} with mAP@0.5
overall and per class, mAP@0.5:0.95, params, GFLOPs, device, epochs, image size, wall time and the exact
commands. Finished stages (runs/pipeline/<name>/...) are reused when re-run; an interrupted training resumes.
"""
import argparse
import csv
import datetime
import platform
import sys
from pathlib import Path

import lagnet_modules
import variants
from lagnet_modules.cli import pipeline
from report import result_path

PRESETS = {  # what fits where; every value can be overridden on the command line
    'cpu': {'epochs': 12, 'imgsz': 256, 'batch': 16, 'guide_cfg': 'yolov5s.yaml', 'models': ['lagnet-s.yaml']},
    'paper': {'epochs': 500, 'imgsz': 640, 'batch': 16, 'guide_cfg': 'yolov5l.yaml',
              'models': ['lagnet-s.yaml', 'lagnet-l.yaml']},
}
ABLATIONS = {  # paper Table 4 (components) and Table 5 (SCEM kernel length k x depth n)
    'lam-off': ['yolov5l-scem.yaml'],  # SCEM without the LAM branch (RGB only)
    'scem-off': ['lagnet-l-noscem.yaml'],  # LAM branch + LGB without SCEM
    'dual-cspdarknet': ['dual-cspdarknet-lgb.yaml', 'dual-cspdarknet-lgb-scem.yaml'],
    'scem-grid': [f'lagnet-s-k{k}n{n}' for k in (3, 5, 7, 9) for n in (1, 2, 3)],
}


def gflops(cfg, imgsz, nc):
    from lagnet_modules.summary import summarize
    return summarize(cfg, imgsz, nc)['gflops']


def device_name(device):
    import torch
    if device != 'cpu' and torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return f'CPU ({platform.processor() or platform.machine()}, {__import__("os").cpu_count()} cores)'


def minutes(seconds):
    """A stage time for the table: '—' when not measured (a sitting killed with the pipeline)."""
    return '—' if seconds is None else f'{seconds / 60:.1f} min'


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', default='neu.yaml')
    ap.add_argument('--preset', choices=sorted(PRESETS), default='cpu')
    ap.add_argument('--epochs', type=int)
    ap.add_argument('--imgsz', type=int)
    ap.add_argument('--batch', type=int)
    ap.add_argument('--models', nargs='+',
                    help='LAGNet configs or benchmarks/variants.py names (default: the preset\'s)')
    ap.add_argument('--guide-cfg', help='baseline and guide YOLOv5 config (default: the preset\'s)')
    ap.add_argument('--ablation', nargs='+', default=[], choices=sorted(ABLATIONS))
    ap.add_argument('--device', default='')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    opt = ap.parse_args(argv)
    p = {k: getattr(opt, k) or v for k, v in PRESETS[opt.preset].items()}
    dataset = Path(opt.data).stem
    name = f'{dataset}-{opt.preset}-{p["epochs"]}e-{p["imgsz"]}px-{Path(p["guide_cfg"]).stem}'
    run_dir = Path('runs') / 'pipeline' / name
    models = [*p['models'], *(m for a in opt.ablation for m in ABLATIONS[a])]
    models = variants.resolve_args(models, run_dir / 'cfgs', ap)
    args = ['--data', opt.data, '--cfg', *models, '--guide-cfg', p['guide_cfg'], '--epochs', p['epochs'], '--imgsz',
            p['imgsz'], '--batch', p['batch'], '--workers', opt.workers, '--seed', opt.seed, '--name', name,
            *(['--device', opt.device] if opt.device else [])]
    lagnet_modules.install()
    results, run_dir = pipeline.run([str(a) for a in args])

    from yolov5.utils.general import check_dataset
    nc = check_dataset(opt.data)['nc']
    cfgs = {f'{Path(p["guide_cfg"]).stem} (guide, RGB)': p['guide_cfg'], **{Path(m).stem: m for m in models}}
    date = datetime.date.today().isoformat()
    out = result_path(f'{dataset}-{opt.preset}').with_suffix('')  # .csv and .md beside each other
    rows = []
    for model, r in results.items():
        row = {'model': model, 'params_M': round(r['params'] / 1e6, 2),
               'GFLOPs': gflops(cfgs[model], p['imgsz'], nc), 'mAP50': r['all']['mAP50'],
               'mAP50-95': r['all']['mAP50-95'],
               **{f'AP50 {c}': v['mAP50'] for c, v in r['classes'].items()},
               'train_s': r['train'].get('seconds'), 'epochs': p['epochs'], 'imgsz': p['imgsz'],
               'device': device_name(opt.device),
               'train_command': pipeline.command_line(r['train']) if r['train'] else ''}
        rows.append(row)
    with open(out.with_suffix('.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    records = [run_dir / 'guide.json', run_dir / 'gen_lam.json', *(run_dir / f'{Path(m).stem}.json' for m in models),
               *sorted(run_dir.glob('val/*.json'))]
    records = [r for r in map(pipeline.stage, records) if r]
    wall = [r['seconds'] for r in records]  # stage times as measured when each stage ran (reused stages cost 0 now)
    md = [f'# {dataset} — preset `{opt.preset}`, {date}', '',
          f'Test split, one seed ({opt.seed}), {p["epochs"]} epochs, {p["imgsz"]} px, batch {p["batch"]}, from scratch '
          f'(no pretrained weights), device: {rows[0]["device"]}. Wall time of all stages '
          f'{minutes(None if None in wall else sum(wall))}.', '',
          pipeline.table(results), '',
          '| model | params | GFLOPs@' + str(p['imgsz']) + ' | train time |', '|---|---|---|---|']
    md += [f"| {r['model']} | {r['params_M']}M | {r['GFLOPs']} | "
           f"{minutes(r['train_s'])} |" for r in rows]
    md += ['', 'Reproduce:', '', '```bash', 'python data/scripts/prepare_neu.py --src ../shared/datasets/NEU-DET '
           '--out datasets/neu' if dataset == 'neu' else f'# prepare {opt.data}',
           'python benchmarks/accuracy.py ' + ' '.join(argv if argv is not None else sys.argv[1:]), '```', '',
           'Stage commands (as run):', '', '```bash']
    md += [pipeline.command_line(r) for r in records] + ['```', '']
    out.with_suffix('.md').write_text('\n'.join(md))
    print(f'\nWrote {out}.md and {out}.csv')


if __name__ == '__main__':
    main()
