"""Build a model on the CPU, run one forward pass and print its size.

    python models/summary.py --cfg models/lagnet-l.yaml [--imgsz 640] [--nc 6] [--json]
    python models/summary.py --cfg yolov5s.yaml          # stock names resolve to stock configs

With --json, the last line printed is one JSON object: cfg, params, gflops, input_channels, strides.
"""
import argparse
import json
import logging

from ..summary import summarize
from . import common


def run(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--cfg', default='models/lagnet-l.yaml', help='model YAML (path or stock name)')
    parser.add_argument('--imgsz', '--img', type=int, default=640, help='square input size for the forward pass')
    parser.add_argument('--nc', type=int, default=None, help='number of classes (default: the YAML nc)')
    parser.add_argument('--json', action='store_true', help='end with one JSON line')
    opt = parser.parse_args(argv)
    if opt.json:
        logging.getLogger('yolov5').setLevel(logging.WARNING)  # keep the layer table out of the JSON output
    s = summarize(opt.cfg, opt.imgsz, opt.nc)
    if opt.json:
        print(json.dumps(s))
    else:
        print(f"{s['cfg']}: {s['params']:,} parameters, {s['gflops']} GFLOPs at {opt.imgsz}, "
              f"{s['input_channels']} input channels, strides {s['strides']}")
    return s


def main(argv=None):
    return common.main('summary.py', run, argv)
