"""LAM ablation: the same LAGNet, schedule and seed as a finished accuracy.py run, trained on blank LAMs.

    python benchmarks/ablation_lam_blank.py --run runs/pipeline/neu-cpu-12e-256px-yolov5s [--cfg lagnet-s.yaml]

Blank LAMs are gen_lam.py with --alpha 1 --beta 0 (the image itself, no location map), in the folder named by
data/neu-lam-blank.yaml's `lams:` key. Same parameters, same two branches: only the guidance is taken away.
Writes benchmarks/results/<run>-lam-blank-<date>.md next to the run's guided result.
"""
import argparse
import datetime
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pipeline  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', required=True, help='a finished accuracy.py / pipeline.py run folder')
    ap.add_argument('--cfg', default='lagnet-s.yaml')
    ap.add_argument('--data', default='neu-lam-blank.yaml')
    opt = ap.parse_args(argv)
    run_dir = ROOT / opt.run
    name = Path(opt.cfg).stem
    results = json.loads((run_dir / 'results.json').read_text())
    cmd = json.loads((run_dir / f'{name}.json').read_text())['command'].split()[2:]  # the guided run's train.py args
    args = {}  # flag -> value ('' for switches such as --cos-lr)
    for i, a in enumerate(cmd):
        if a.startswith('--'):
            args[a] = cmd[i + 1] if i + 1 < len(cmd) and not cmd[i + 1].startswith('--') else ''
    imgsz, blank = args['--imgsz'], f'{name}-lam-blank'
    log = run_dir / 'lam-blank-gen_lam.log'
    if not log.with_suffix('.json').is_file():
        pipeline.sh('gen_lam.py', '--weights', run_dir / 'guide' / 'weights' / 'best.pt', '--data', opt.data,
                    '--imgsz', imgsz, '--alpha', 1, '--beta', 0, log=log)
    if not (run_dir / blank / 'weights' / 'best.pt').is_file():
        same = [x for k, v in args.items() if k not in ('--cfg', '--data', '--name') for x in (k, v) if x != '']
        pipeline.sh('train.py', '--cfg', opt.cfg, '--data', opt.data, *same, '--name', blank,
                    log=run_dir / f'{blank}.log')
    vopt = argparse.Namespace(data=opt.data, imgsz=imgsz, device='')
    results[f'{name}, blank LAMs'] = pipeline.validate(run_dir / blank / 'weights' / 'best.pt', blank, vopt, run_dir)
    md = pipeline.table(results)
    cmds = [json.loads(f.read_text())['command'] for f in (log.with_suffix('.json'), run_dir / f'{blank}.json',
                                                            run_dir / 'val' / f'{blank}.json')]
    out = ROOT / 'benchmarks' / 'results' / f'{run_dir.name}-lam-blank-{datetime.date.today().isoformat()}.md'
    out.write_text('\n'.join([f'# LAM ablation on {run_dir.name}', '', 'Same config, schedule and seed; the blank '
                              'run sees the image in both branches (LAM = image, no location map).', '', md, '',
                              f'Reproduce: `python benchmarks/ablation_lam_blank.py --run {opt.run} --cfg {opt.cfg}`',
                              '', '```bash', *cmds, '```', '']).replace(f'{ROOT}/', ''))
    print(md)
    print(f'Wrote {out}')


if __name__ == '__main__':
    main()
