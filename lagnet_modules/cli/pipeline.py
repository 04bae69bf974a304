"""The paper pipeline as one command: guide YOLOv5 -> LAMs -> LAGNet -> test-split validation -> table.

    python pipeline.py --data neu.yaml --cfg lagnet-s.yaml                      # the paper's recipe (long)
    python pipeline.py --data synthetic.yaml --cfg lagnet-s.yaml --guide-cfg yolov5n.yaml --epochs 30 --imgsz 128

Guide and LAGNet train with one recipe (data/hyps/hyp.lagnet.yaml, cosine LR; --train-args to change it).
--blank also trains each LAGNet on blank LAMs (the image itself: the same network with no location information),
the control for what the guidance adds. --jobs N runs up to N stages at once, each on cpu_count/N threads (the guide,
when nothing runs beside it, on all): the blank twins need no guide, so they train beside it, and each model is
validated as soon as it is trained. On a 2-core CPU two single-thread trainings finish sooner than the same two one
after the other; one training on two threads is no faster than on one (demo LAGNet, 6 epochs: 46.2 s against 46.8 s).
Each stage runs the project's own command (train, gen_lam, val) in a fresh process, its output logged to
runs/pipeline/<name>/<stage>.log with a progress line every few seconds, and is skipped when its output already
exists: runs/pipeline/<name>/{guide,<cfg>}/weights/best.pt of a finished training (an interrupted one resumes from its
last.pt), LAMs whose manifest records this guide's SHA-256, and runs/pipeline/<name>/val/<model>/metrics.json
(written by val). Ends with a table: guide vs LAGNet, mAP@0.5 overall and per class, mAP@0.5:0.95, params.
--guide-backbone starts both branches of every LAGNet, blank twins included, from the trained guide's backbone
(train.py --backbone-weights; dual-CSPDarkNet configs of the guide's width): the twins then wait for the guide too.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

COMMANDS = {'train': 'lagnet_modules.cli.train', 'val': 'lagnet_modules.cli.val', 'gen_lam': 'lagnet_modules.cli.gen_lam'}
RUNNING = set()  # stage processes now running (sh), stopped together when a stage beside them fails ...
STOP = threading.Event()  # ... and set then, so a stage starting at that moment stops too


def progress(line, name, t0):
    """The stage's latest progress (an epoch line from YOLOv5's bar), shortened for one terminal line."""
    text = line.strip().split('\r')[-1].strip()
    return f'  [{name} {time.time() - t0:5.0f} s] {text[:110]}'


def sh(command, *args, log, threads=None):
    """Run one of this project's commands (``COMMANDS``) on ``args``; its output goes to ``log``, its record (args,
    seconds, return code) to ``log`` .json; a progress line is shown as it runs. Stops the pipeline if it fails.
    ``threads``: the command's torch/OpenMP threads (default: torch's own choice)."""
    args = [str(a) for a in args]
    env = {**os.environ, **({'OMP_NUM_THREADS': str(threads)} if threads else {})}
    print(f"$ python {command}.py {' '.join(args)}", flush=True)
    log = Path(log)
    log.parent.mkdir(parents=True, exist_ok=True)
    record = {'command': command, 'args': args, 'seconds': None, 'returncode': None}
    log.with_suffix('.json').write_text(json.dumps(record) + '\n')  # a stage killed with the pipeline keeps its command
    t0 = last = time.time()
    with open(log, 'w') as f:
        p = subprocess.Popen([sys.executable, '-c', f'from {COMMANDS[command]} import main; main()', *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1, env=env)
        RUNNING.add(p)
        if STOP.is_set():
            p.terminate()
        try:
            for line in p.stdout:
                f.write(line)
                if time.time() - last > 10 and line.strip():
                    print(progress(line, log.stem, t0), flush=True)
                    last = time.time()
            p.wait()
        finally:
            RUNNING.discard(p)
    record.update(seconds=round(time.time() - t0, 1), returncode=p.returncode)
    log.with_suffix('.json').write_text(json.dumps(record) + '\n')
    if p.returncode:
        sys.exit(f'pipeline.py: stage failed (python {command}.py {" ".join(args)}):\n{log.read_text()[-3000:]}')


def succeeded(log):
    """Whether the stage logged to ``log`` ran to the end without error (its record says so; see :func:`sh`)."""
    record = Path(log).with_suffix('.json')
    return record.is_file() and json.loads(record.read_text())['returncode'] == 0


def with_values(args, values):
    """``args`` (``--flag value`` pairs and switches) with the value of each flag in ``values`` replaced."""
    out = list(args)
    for flag, value in values.items():
        out[out.index(flag) + 1] = str(value)
    return out


def command_line(record):
    """A stage record as the command a user would type."""
    return f"python {record['command']}.py {' '.join(record['args'])}"


RECIPE = ['--hyp', 'hyp.lagnet.yaml', '--cos-lr']  # one recipe for guide and LAGNet (the paper's); --train-args override
BLANK = ['--blank']  # gen_lam flag of blank LAMs: the image itself, no location information, no guide


def finished(weights):
    """Whether ``weights`` is a finished training's checkpoint: YOLOv5 marks those epoch -1 when it strips their
    optimizer at the end, while a best.pt saved mid-training keeps its epoch."""
    from ..yolo.compat import load_checkpoint
    return Path(weights).is_file() and load_checkpoint(weights).get('epoch') == -1


def resumed(path):
    """Where the resumed sitting of the stage logged or recorded at ``path`` keeps its log or record."""
    return Path(path).with_stem(f'{Path(path).stem}-resume')


def train_once(run, args, log, threads=None):
    """``run``/weights/best.pt, trained by ``train.py args`` unless that training finished already. An interrupted
    training (best.pt and last.pt saved mid-run) resumes from its last.pt (``train.py --resume``: the same schedule
    and hyp, not the same random state) instead of being taken for a result or started over."""
    best, last = Path(run) / 'weights' / 'best.pt', Path(run) / 'weights' / 'last.pt'
    if finished(best):
        print(f'reusing {best}')
    elif last.is_file():
        print(f'resuming the interrupted training {last}')
        sh('train', '--resume', last, log=resumed(log), threads=threads)
    else:
        sh('train', *args, log=log, threads=threads)
    return best


def train(run_dir, name, cfg, opt, epochs, threads=None):
    """``cfg`` trained on ``opt``'s data with the project's recipe as ``run_dir``/``name`` (see :func:`train_once`)."""
    args = ['--cfg', cfg, '--data', opt.data, '--epochs', epochs, '--imgsz', opt.imgsz, '--batch-size', opt.batch,
            '--workers', opt.workers, '--seed', opt.seed, '--project', run_dir, '--name', name, '--exist-ok',
            *(['--device', opt.device] if opt.device else []), *RECIPE, *opt.train_args]
    return train_once(run_dir / name, args, log=run_dir / f'{name}.log', threads=threads)


def lams(guide, opt, run_dir, blank=False, threads=None):
    """LAMs of every split from ``guide`` where ``opt.data`` puts them (``blank``: the image itself, no guide), unless
    such LAMs are there already."""
    from yolov5.utils.general import check_dataset

    from ..data.images import dataset_images
    from ..data.lam import sha256
    from ..data.layout import LamLayout
    from ..paths import find_file
    d = check_dataset(str(find_file(opt.data, 'data')))
    manifests = {LamLayout.from_data(d).manifest(f) for f in dataset_images(d)[0]}
    key, value = ('blank', True) if blank else ('guide_sha256', sha256(guide))  # the guide hashed once
    if manifests and all(m.is_file() and json.loads(m.read_text()).get(key) == value for m in manifests):
        print(f"reusing LAMs of {', '.join(str(m.parent) for m in sorted(manifests))}")
        return
    sh('gen_lam', *(BLANK if blank else ['--weights', guide]), '--data', opt.data, '--imgsz', opt.imgsz,
       *(['--device', opt.device] if opt.device else []),
       log=run_dir / f"gen_lam{'_blank' if blank else ''}.log", threads=threads)


def with_lams(data, lams, out):
    """A copy of the data YAML ``data`` at ``out`` whose ``lams:`` is ``lams`` (a function of the old value, or a
    value); its ``path:`` is made absolute. Returns ``out`` as a string."""
    import yaml

    from ..data.layout import DEFAULT
    from .common import data_yaml
    d = data_yaml(data)
    d['lams'] = lams(str(d.get('lams') or DEFAULT).rstrip('/')) if callable(lams) else lams
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(yaml.safe_dump(d, sort_keys=False))
    return str(out)


def blank_data(opt, run_dir):
    """``opt`` with its data YAML copied to ``run_dir`` and its ``lams:`` folder suffixed ``-blank``."""
    out = with_lams(opt.data, lambda lams: f'{lams}-blank', run_dir / f'{Path(opt.data).stem}-blank.yaml')
    return argparse.Namespace(**{**vars(opt), 'data': out})


def validate(weights, name, opt, run_dir, threads=None):
    """Test-split metrics of ``weights`` (val's metrics.json), with the training stage's record under 'train'."""
    out = run_dir / 'val' / name / 'metrics.json'
    if not out.is_file():
        sh('val', '--weights', weights, '--data', opt.data, '--imgsz', opt.imgsz, '--task', 'test',
           '--project', run_dir / 'val', '--name', name, '--exist-ok',
           *(['--device', opt.device] if opt.device else []), log=run_dir / 'val' / f'{name}.log', threads=threads)
    metrics = json.loads(out.read_text())
    metrics['train'] = stage(Path(weights).parents[2] / f'{Path(weights).parents[1].name}.json')
    return metrics


def stage(record):
    """The command and wall time of a stage (see sh), or {} when it was made elsewhere. A training resumed by
    :func:`train_once` adds its resumed sitting's seconds; seconds is None when a sitting was killed (not measured)."""
    parts = [json.loads(f.read_text()) for f in (record, resumed(record)) if f.is_file()]
    if not parts:
        return {}
    seconds = [p['seconds'] for p in parts]
    return {**parts[0], 'seconds': None if None in seconds else round(sum(seconds), 1)}


def table(results):
    """Markdown table: one column per model, mAP@0.5 overall and per class, then mAP@0.5:0.95 and params."""
    names = list(results)
    classes = list(dict.fromkeys(c for n in names for c in results[n]['classes']))
    lines = ['| mAP@0.5 | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
    lines.append('| all | ' + ' | '.join(f"{100 * results[n]['all']['mAP50']:.1f}" for n in names) + ' |')
    for c in classes:
        lines.append(f'| {c} | ' + ' | '.join(f"{100 * results[n]['classes'].get(c, {}).get('mAP50', float('nan')):.1f}"
                                              for n in names) + ' |')
    lines.append('| mAP@0.5:0.95 (all) | ' + ' | '.join(f"{100 * results[n]['all']['mAP50-95']:.1f}"
                                                        for n in names) + ' |')
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
    ap.add_argument('--blank', action='store_true', help='also train each --cfg on blank LAMs (no location info)')
    ap.add_argument('--guide-backbone', action='store_true',
                    help="every LAGNet (and blank twin) starts both branches from the trained guide's backbone "
                         "(dual-CSPDarkNet configs of the guide's width)")
    ap.add_argument('--jobs', type=int, default=1,
                    help='stages at once (trainings, LAM sets, validations), on cpu_count/jobs threads each')
    ap.add_argument('--name', help='run folder under runs/pipeline (default <data>-<cfgs>)')
    ap.add_argument('--train-args', nargs=argparse.REMAINDER, default=[], help='extra train.py flags (last)')
    opt = ap.parse_args(argv)
    opt.name = opt.name or '-'.join([Path(opt.data).stem, *(Path(c).stem for c in opt.cfg)])
    return opt


class Stages:
    """The stages of one pipeline run, up to ``--jobs`` at once, each a process (``sh``) on ``share`` threads; the
    first stage to fail stops the others and is the error raised."""

    def __init__(self, opt, run_dir):
        self.opt, self.run_dir = opt, run_dir
        self.slots, self.failed = threading.Semaphore(max(1, opt.jobs)), []
        STOP.clear()
        # blank twins need no guide unless they start from its backbone: their stages then run beside the guide's
        self.beside = opt.blank and opt.jobs > 1 and not opt.guide_backbone
        self.share = max(1, (os.cpu_count() or 1) // opt.jobs) if opt.jobs > 1 else None

    def run(self, fn, *args, alone=False, **kwargs):
        """``fn(*args, **kwargs)`` (a stage: train, lams or validate) once a slot is free, on ``share`` threads, or
        torch's own choice (every core) for a stage ``alone`` on the machine."""
        with self.slots:
            if self.failed:
                raise self.failed[0]
            try:
                return fn(*args, threads=None if alone else self.share, **kwargs)
            except BaseException as e:  # sh's SystemExit included
                self.failed.append(e)
                STOP.set()
                for p in list(RUNNING):
                    p.terminate()
                raise

    def trained(self, pool, data, blank, guide=None, backbone=None):
        """LAMs of one kind -> every --cfg trained and validated on them: {name: test metrics}; with ``guide``
        (its LAMs), the guide first, validated once the trainings have asked for their slots (LAGNet waits for
        nothing but its LAMs); ``backbone``: the checkpoint each --cfg's branches start from."""
        self.run(lams, guide, data, self.run_dir, blank=blank)
        if backbone:
            data = argparse.Namespace(**{**vars(data),
                                         'train_args': [*data.train_args, '--backbone-weights', backbone]})

        def one(cfg):
            name = f"{Path(cfg).stem}{'-blank' if blank else ''}"
            weights = self.run(train, self.run_dir, name, cfg, data, self.opt.epochs)
            return name, self.run(validate, weights, name, data, self.run_dir)
        models = pool.map(one, self.opt.cfg)
        stem = Path(self.opt.guide_cfg).stem
        first = {f'{stem} (guide, RGB)': self.run(validate, guide, stem, data, self.run_dir)} if guide else {}
        return {**first, **dict(models)}

    def results(self):
        """Every stage; {model: test metrics}, the guide first."""
        opt, run_dir = self.opt, self.run_dir
        try:
            with ThreadPoolExecutor(8 * len(opt.cfg) + 8) as pool:  # threads wait for stages; --jobs bounds these
                twins = pool.submit(self.trained, pool, blank_data(opt, run_dir), True) if self.beside else None
                guide = self.run(train, run_dir, 'guide', opt.guide_cfg, opt, opt.guide_epochs or opt.epochs,
                                 alone=not self.beside)
                backbone = guide if opt.guide_backbone else None
                if opt.blank and backbone:  # beside LAGNet now, once the guide it starts from is trained
                    twins = pool.submit(self.trained, pool, blank_data(opt, run_dir), True, backbone=backbone)
                out = self.trained(pool, opt, False, guide, backbone)
                if opt.blank:
                    out.update(twins.result() if twins else self.trained(pool, blank_data(opt, run_dir), True))
                return out
        except BaseException:
            if self.failed:
                raise self.failed[0] from None
            raise


def schedule(epochs, guide_epochs=None, others='LAGNet'):
    """'40 epochs', or 'guide 60 epochs, LAGNet 40' when the guide trains on its own schedule."""
    return f'{epochs} epochs' if guide_epochs in (None, epochs) else f'guide {guide_epochs} epochs, {others} {epochs}'


def run(argv):
    opt = parse_opt(argv)
    run_dir = Path('runs') / 'pipeline' / opt.name
    t0 = time.time()
    results = Stages(opt, run_dir).results()
    md = table(results)
    (run_dir / 'results.md').write_text(md + '\n')
    (run_dir / 'results.json').write_text(json.dumps(results, indent=2))
    print(f'\n{md}\n\nTest split of {opt.data}, {schedule(opt.epochs, opt.guide_epochs)}, {opt.imgsz} px; '
          f'{time.time() - t0:.0f} s. Tables: {run_dir}/results.md')
    return results, run_dir


def main(argv=None):
    from .common import main as entry
    return entry('pipeline.py', run, argv)
