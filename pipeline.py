"""The paper pipeline as one command: guide YOLOv5 -> LAMs -> LAGNet -> test-split validation -> table.

    python pipeline.py --data neu.yaml --cfg lagnet-s.yaml                      # the paper's recipe (long)
    python pipeline.py --data synthetic.yaml --cfg lagnet-s.yaml --guide-cfg yolov5n.yaml --epochs 30 --imgsz 128

Guide and LAGNet train with one recipe (data/hyps/hyp.lagnet.yaml, cosine LR; --train-args to change it).
Each stage runs the project's own CLI (train.py, gen_lam.py, val.py) in a fresh process and is skipped when its
output already exists: runs/pipeline/<name>/{guide,<cfg>}/weights/best.pt, LAMs whose manifest records this
guide's SHA-256, and runs/pipeline/<name>/val/*/metrics.json. Ends with a table: guide vs LAGNet, mAP@0.5
overall and per class, mAP@0.5:0.95, params.
"""
import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
ROW = re.compile(r'^\s*(\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$')


def sh(*args, log=None):
    """Run one of this project's scripts, log its output and timing beside ``log``, stop the pipeline if it fails."""
    cmd = [sys.executable, *map(str, args)]
    line = 'python ' + ' '.join(str(a) for a in args)
    print('$ ' + line, flush=True)
    t = time.time()
    r = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text(r.stdout)
        Path(log).with_suffix('.json').write_text(json.dumps({'command': line, 'seconds': round(time.time() - t, 1),
                                                              'returncode': r.returncode}) + '\n')
    if r.returncode:
        sys.exit(f'pipeline.py: stage failed ({" ".join(map(str, args))}):\n{r.stdout[-3000:]}')
    return r.stdout


def parse_val(text):
    """Per-class rows of stock YOLOv5's validation table: {class: {P, R, mAP50, mAP50-95, instances}}."""
    rows = {}
    for line in text.splitlines():
        m = ROW.match(line.split('\r')[-1])
        if m:
            rows[m[1]] = {'instances': int(m[3]), 'P': float(m[4]), 'R': float(m[5]), 'mAP50': float(m[6]),
                          'mAP50-95': float(m[7])}
    return rows


def params(weights):
    sys.path.insert(0, str(ROOT))
    from lagnet_modules.cli import checkpoint_model
    return sum(p.numel() for p in checkpoint_model(weights)[0].parameters())


RECIPE = ['--hyp', 'hyp.lagnet.yaml', '--cos-lr']  # one recipe for guide and LAGNet (the paper's); --train-args override


def train(run_dir, name, cfg, opt, epochs):
    best = run_dir / name / 'weights' / 'best.pt'
    if best.is_file():
        print(f'reusing {best}')
        return best
    sh('train.py', '--cfg', cfg, '--data', opt.data, '--epochs', epochs, '--imgsz', opt.imgsz, '--batch-size', opt.batch,
       '--workers', opt.workers, '--seed', opt.seed, '--project', run_dir, '--name', name, '--exist-ok',
       *(['--device', opt.device] if opt.device else []), *RECIPE, *opt.train_args, log=run_dir / f'{name}.log')
    return best


def lams(guide, opt, run_dir):
    sys.path.insert(0, str(ROOT))
    import lagnet_modules  # noqa: F401
    from yolov5.utils.general import check_dataset

    from lagnet_modules.cli import lam_folder
    from lagnet_modules.lam import sha256
    manifest = Path(check_dataset(opt.data)['path']) / lam_folder(opt.data) / 'manifest.json'
    if manifest.is_file() and json.loads(manifest.read_text()).get('guide_sha256') == sha256(guide):
        print(f'reusing LAMs of {manifest.parent}')
        return
    sh('gen_lam.py', '--weights', guide, '--data', opt.data, '--imgsz', opt.imgsz,
       *(['--device', opt.device] if opt.device else []), log=run_dir / 'gen_lam.log')


def validate(weights, name, opt, run_dir):
    out = run_dir / 'val' / name / 'metrics.json'
    if out.is_file():
        return json.loads(out.read_text())
    t = time.time()
    text = sh('val.py', '--weights', weights, '--data', opt.data, '--imgsz', opt.imgsz, '--task', 'test',
              '--project', run_dir / 'val', '--name', name, '--exist-ok',
              *(['--device', opt.device] if opt.device else []), log=run_dir / 'val' / f'{name}.log')
    metrics = {'weights': str(weights), 'params': params(weights), 'classes': parse_val(text),
               'val_seconds': round(time.time() - t, 1), 'train': stage(Path(weights).parents[2] /
                                                                          f'{Path(weights).parents[1].name}.json')}
    out.write_text(json.dumps(metrics, indent=2))
    return metrics


def stage(record):
    """The command and wall time of a finished stage (see sh), or {} when it was made elsewhere."""
    return json.loads(record.read_text()) if record.is_file() else {}


def table(results):
    """Markdown table: one column per model, mAP@0.5 overall and per class, then mAP@0.5:0.95 and params."""
    names = list(results)
    classes = [c for c in results[names[0]]['classes'] if c != 'all']
    lines = ['| mAP@0.5 | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
    for c in ['all', *classes]:
        lines.append(f'| {c} | ' + ' | '.join(f"{100 * results[n]['classes'].get(c, {}).get('mAP50', float('nan')):.1f}"
                                              for n in names) + ' |')
    lines.append('| mAP@0.5:0.95 (all) | ' + ' | '.join(
        f"{100 * results[n]['classes']['all']['mAP50-95']:.1f}" for n in names) + ' |')
    lines.append('| params | ' + ' | '.join(f"{results[n]['params'] / 1e6:.2f}M" for n in names) + ' |')
    return '\n'.join(lines)


def parse_opt(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--data', required=True, help='data YAML, e.g. neu.yaml')
    ap.add_argument('--cfg', nargs='+', default=['lagnet-s.yaml'], help='LAGNet config(s) to train on the LAMs')
    ap.add_argument('--guide-cfg', default='yolov5l.yaml', help='guide / baseline YOLOv5 config (paper: yolov5l)')
    ap.add_argument('--epochs', type=int, default=500, help='epochs for every model')
    ap.add_argument('--guide-epochs', type=int, help='guide epochs (default --epochs)')
    ap.add_argument('--imgsz', type=int, default=640)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--workers', type=int, default=8)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--device', default='')
    ap.add_argument('--name', help='run folder under runs/pipeline (default <data>-<cfgs>)')
    ap.add_argument('--train-args', nargs=argparse.REMAINDER, default=[], help='extra train.py flags (last)')
    opt = ap.parse_args(argv)
    opt.name = opt.name or '-'.join([Path(opt.data).stem, *(Path(c).stem for c in opt.cfg)])
    return opt


def main(argv=None):
    opt = parse_opt(argv)
    run_dir = ROOT / 'runs' / 'pipeline' / opt.name
    t0 = time.time()
    guide = train(run_dir, 'guide', opt.guide_cfg, opt, opt.guide_epochs or opt.epochs)
    lams(guide, opt, run_dir)
    models = {f'{Path(opt.guide_cfg).stem} (guide, RGB)': guide}
    for cfg in opt.cfg:
        models[Path(cfg).stem] = train(run_dir, Path(cfg).stem, cfg, opt, opt.epochs)
    results = {name: validate(w, name.split(' ')[0], opt, run_dir) for name, w in models.items()}
    md = table(results)
    (run_dir / 'results.md').write_text(md + '\n')
    (run_dir / 'results.json').write_text(json.dumps(results, indent=2))
    print(f'\n{md}\n\nTest split of {opt.data}, {opt.epochs} epochs, {opt.imgsz} px; {time.time() - t0:.0f} s. '
          f'Tables: {run_dir}/results.md')
    return results, run_dir


if __name__ == '__main__':
    main()
