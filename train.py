"""Train YOLOv5 or LAGNet with stock YOLOv5's trainer (every stock flag works).

    python train.py --cfg models/lagnet-l.yaml --data neu.yaml            # LAGNet (lagnet-s.yaml: the small one)
    python train.py --cfg yolov5l.yaml --data neu.yaml                    # RGB baseline / LAM guide
    python train.py --resume runs/train/exp/weights/last.pt

For LAGNet configs (YAML `ch: 6`) the paper's recipe is the default: data/hyps/hyp.lagnet.yaml, 500 epochs,
cosine LR, batch 16, 640 px; every flag overrides. Training data are RGB+LAM pairs: make the LAMs first with
gen_lam.py. Models train from scratch unless --weights names a file (nothing is downloaded).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lagnet_modules  # noqa: E402, F401  (applies the yolov5 patches)
from lagnet_modules import cli, paired_data  # noqa: E402
from lagnet_modules.paths import find_file  # noqa: E402

LAGNET_DEFAULTS = {'epochs': 500, 'hyp': 'hyp.lagnet.yaml'}


def main(argv):
    import yolov5.train as stock
    from yolov5.utils.general import get_latest_run
    if cli.help_requested(argv):
        print(__doc__)
        return cli.stock_opt(stock.parse_opt, 'train.py', ['--help'])
    resume = cli.flag_value(argv, '--resume') or (cli.given(argv, '--resume') and 'latest')
    if not resume and not cli.given(argv, '--data'):
        raise cli.UsageError('--data is required, e.g. --data neu.yaml (make it with python data/scripts/'
                             'prepare_neu.py) or --data synthetic.yaml (python data/scripts/make_synthetic.py)')
    if not cli.given(argv, '--weights'):
        argv = [*argv, '--weights', '']  # from scratch: stock would download yolov5s.pt
    opt = cli.stock_opt(stock.parse_opt, 'train.py', cli.resolve_paths(argv))
    if resume:
        last = get_latest_run() if resume == 'latest' else resume
        if not last or not Path(last).is_file():
            raise FileNotFoundError(f'nothing to resume: {last or "no runs/**/last*.pt"}')
        model, ckpt = cli.checkpoint_model(last)
        ch, data = model.yaml.get('ch', 3), ckpt.get('opt', {}).get('data')
    else:
        ch = cli.input_channels(opt.cfg, opt.weights)
        data = opt.data
        if ch == 6:  # the paper's recipe unless the user said otherwise
            if not cli.given(argv, '--epochs'):
                opt.epochs = LAGNET_DEFAULTS['epochs']
            if not cli.given(argv, '--hyp'):
                opt.hyp = str(find_file(LAGNET_DEFAULTS['hyp'], 'data/hyps'))
            opt.cos_lr = True
    paired_data.use_pairs(ch == 6, cli.lam_folder(data))
    stock.main(opt)


if __name__ == '__main__':
    cli.run('train.py', main, sys.argv[1:])
