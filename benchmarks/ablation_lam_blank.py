"""LAM ablation: the same LAGNet, schedule and seed as a finished accuracy.py run, trained on blank LAMs.

    python benchmarks/ablation_lam_blank.py --run runs/pipeline/neu-cpu-12e-256px-yolov5s [--cfg lagnet-s.yaml]

Blank LAMs are gen_lam.py --blank (the image itself, no location map, no guide), in the folder named by
data/neu-lam-blank.yaml's `lams:` key. Same parameters, same two branches: only the guidance is taken away.
Writes benchmarks/results/<run>-lam-blank-<date>.md next to the run's guided result.
"""
import argparse
import json
from pathlib import Path

import lagnet_modules
from lagnet_modules.cli import pipeline
from report import result_path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--run', required=True, help='a finished accuracy.py / pipeline.py run folder')
    ap.add_argument('--cfg', default='lagnet-s.yaml')
    ap.add_argument('--data', default='neu-lam-blank.yaml')
    opt = ap.parse_args(argv)
    lagnet_modules.install()
    run_dir = Path(opt.run)
    name = Path(opt.cfg).stem
    results = json.loads((run_dir / 'results.json').read_text())
    guided = json.loads((run_dir / f'{name}.json').read_text())['args']  # the guided run's train args, as run
    imgsz, blank = guided[guided.index('--imgsz') + 1], f'{name}-lam-blank'
    log = run_dir / 'lam-blank-gen_lam.log'
    if not pipeline.succeeded(log):
        pipeline.sh('gen_lam', *pipeline.BLANK, '--data', opt.data, '--imgsz', imgsz, log=log)
    args = pipeline.with_values(guided, {'--cfg': opt.cfg, '--data': opt.data, '--name': blank})
    weights = pipeline.train_once(run_dir / blank, args, log=run_dir / f'{blank}.log')
    vopt = argparse.Namespace(data=opt.data, imgsz=imgsz, device='')
    results[f'{name}, blank LAMs'] = pipeline.validate(weights, blank, vopt, run_dir)
    md = pipeline.table(results)
    cmds = [pipeline.command_line(json.loads(f.read_text())) for f in (log.with_suffix('.json'),
                                                                        run_dir / f'{blank}.json',
                                                                        run_dir / 'val' / f'{blank}.json')]
    out = result_path(f'{run_dir.name}-lam-blank')
    out.write_text('\n'.join([f'# LAM ablation on {run_dir.name}', '', 'Same config, schedule and seed; the blank '
                              'run sees the image in both branches (LAM = image, no location map).', '', md, '',
                              f'Reproduce: `python benchmarks/ablation_lam_blank.py --run {opt.run} --cfg {opt.cfg}`',
                              '', '```bash', *cmds, '```', '']))
    print(md)
    print(f'Wrote {out}')


if __name__ == '__main__':
    main()
