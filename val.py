"""Validate a YOLOv5 or LAGNet checkpoint with stock YOLOv5's validator (every stock flag works).

    python val.py --weights runs/train/exp/weights/best.pt --data neu.yaml [--task test]

Prints P, R, mAP@0.5 and mAP@0.5:0.95 overall and per class, the parameter count, and ms per image for
pre-process, inference and NMS; saves the PR curve and confusion matrix under runs/val/exp*. A LAGNet
checkpoint validates on RGB+LAM pairs (make the LAMs with gen_lam.py).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lagnet_modules  # noqa: E402, F401  (applies the yolov5 patches)
from lagnet_modules import cli, paired_data  # noqa: E402


def main(argv):
    import yolov5.val as stock
    if cli.help_requested(argv):
        print(__doc__)
        return cli.stock_opt(stock.parse_opt, 'val.py', ['--help'])
    cli.require(argv, data='e.g. --data neu.yaml', weights=cli.WEIGHTS_HINT)
    opt = cli.stock_opt(stock.parse_opt, 'val.py', cli.resolve_paths(argv))
    weights = opt.weights if isinstance(opt.weights, str) else opt.weights[0]
    ch = cli.input_channels(weights=weights)
    paired_data.use_pairs(ch == 6, cli.lam_folder(opt.data))
    if opt.task not in ('train', 'val', 'test'):  # speed / study: stock main re-reads the command line
        saved, sys.argv = sys.argv, ['val.py', *cli.resolve_paths(argv)]
        try:
            return stock.main()
        finally:
            sys.argv = saved
    opt.verbose = True  # per-class metrics, whatever the number of classes
    stock.run(**vars(opt))


if __name__ == '__main__':
    cli.run('val.py', main, sys.argv[1:])
