"""Export a YOLOv5 or LAGNet checkpoint with stock YOLOv5's exporter (its flags: --include, --imgsz, --half,
--dynamic, --simplify, ...). A LAGNet checkpoint becomes one graph with its guide inside, whose only input is
the RGB image: no LAM files are needed to run it.

    python export.py --weights runs/train/lagnet-s/weights/best.pt --include onnx      # -> best-guided.onnx
    python val.py --weights runs/train/lagnet-s/weights/best-guided.onnx --data neu.yaml
    python detect.py --weights runs/train/lagnet-s/weights/best-guided.onnx --source images/

The guide is the one recorded in the manifest of the LAMs the model was trained on (or --guide FILE), with the
manifest's alpha, beta and colour map. The guided model is also saved as <weights>-guided.pt, which val.py and
detect.py load the same way. RGB checkpoints export exactly as stock YOLOv5 exports them.
"""
import argparse
import sys
from pathlib import Path

import torch

from ..guided import GuidedLAGNet
from . import common

EXTRA = argparse.ArgumentParser(add_help=False, description='LAGNet options (all other flags are stock YOLOv5 '
                                'export.py flags)')
EXTRA.add_argument('--guide', help='guide YOLOv5 checkpoint (default: the one recorded in the LAM manifest)')


def guided_checkpoint(weights, model, ckpt, guide=None):
    """Save ``weights`` (a LAGNet checkpoint: its ``model`` and dict ``ckpt``) with its guide inside as
    ``<stem>-guided.pt``; return that path."""
    from ..data.lam import GuideError, sha256
    manifest = common.lam_manifest(ckpt)
    guide = common.guide_for(manifest, guide, 'a LAGNet model exports with its guide inside')
    guide_model = common.checkpoint_model(guide)[0]
    if guide_model.yaml.get('ch', 3) != 3:
        raise GuideError(f'{guide}: a {guide_model.yaml.get("ch")}-channel model cannot be the guide')
    guided = GuidedLAGNet(guide_model, model.float(), **common.lam_recipe(manifest))
    out = Path(weights).with_name(f'{Path(weights).stem}-guided.pt')
    torch.save({'model': guided.half(), 'ema': None, 'epoch': -1, 'opt': ckpt.get('opt'), 'guide': str(guide),
                'guide_sha256': sha256(guide)}, out)
    return out


def single_file(onnx_file):
    """Fold the external weights file torch's exporter writes beside an ONNX model (``.onnx.data``) back into it."""
    import onnx
    data = Path(f'{onnx_file}.data')
    if data.is_file():
        model = onnx.load(str(onnx_file))  # reads the external data too
        onnx.save(model, str(onnx_file), save_as_external_data=False)
        data.unlink()
    return onnx_file


def run(argv):
    import yolov5.export as stock
    extra, rest = EXTRA.parse_known_args(argv)
    common.require(rest, weights=common.WEIGHTS_HINT)
    opt = common.stock_opt(stock.parse_opt, 'export.py', rest)
    files = []
    for weights in opt.weights if isinstance(opt.weights, list) else [opt.weights]:
        model, ckpt = common.checkpoint_model(weights)
        if model.yaml.get('ch', 3) == 6:
            weights = guided_checkpoint(weights, model, ckpt, extra.guide)
        elif extra.guide:
            raise common.UsageError(f'{weights} is an RGB YOLOv5 model; --guide is for LAGNet checkpoints')
        made = stock.run(**{**vars(opt), 'weights': str(weights)})
        asked = {fmt.lower() for fmts in opt.include for fmt in fmts.split(',')}
        formats = stock.export_formats()
        failed = [fmt for fmt, suffix in zip(formats['Argument'], formats['Suffix'])
                  if fmt in asked and not any(str(f).rstrip('/\\').endswith(suffix) for f in made)]
        if failed:  # stock logs "export failure" and returns the files it did write, as if nothing had failed
            sys.exit(f'export.py: {weights}: {", ".join(failed)} export failed; the "export failure" line above '
                     'says why')
        files += [single_file(f) if str(f).endswith('.onnx') else f for f in made]
    return files


def main(argv=None):
    return common.main('export.py', run, argv, stock='yolov5.export', doc=__doc__, extra=EXTRA)
