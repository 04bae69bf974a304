"""Build a model on the CPU, run one forward pass and print its size.

Usage:
    python models/summary.py --cfg models/lagnet-l.yaml [--imgsz 640] [--nc 6] [--json]
    python models/summary.py --cfg yolov5s.yaml          # stock names resolve to stock configs

With --json, the last line printed is one JSON object: cfg, params, gflops, input_channels, strides.
"""
import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

import lagnet_modules  # noqa: E402, F401  (applies the yolov5 patches)
from lagnet_modules.registry import ModelConfigError  # noqa: E402
from lagnet_modules.summary import summarize  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--cfg', default='models/lagnet-l.yaml', help='model YAML (path or stock name)')
    parser.add_argument('--imgsz', '--img', type=int, default=640, help='square input size for the forward pass')
    parser.add_argument('--nc', type=int, default=None, help='number of classes (default: the YAML nc)')
    parser.add_argument('--json', action='store_true', help='end with one JSON line')
    opt = parser.parse_args(argv)
    if opt.json:
        logging.getLogger('yolov5').setLevel(logging.WARNING)  # keep the layer table out of the JSON output
    try:
        s = summarize(opt.cfg, opt.imgsz, opt.nc)
    except (FileNotFoundError, ModelConfigError) as e:
        sys.exit(f'summary.py: {e}')
    if opt.json:
        print(json.dumps(s))
    else:
        print(f"{s['cfg']}: {s['params']:,} parameters, {s['gflops']} GFLOPs at {opt.imgsz}, "
              f"{s['input_channels']} input channels, strides {s['strides']}")


if __name__ == '__main__':
    main()
