"""Detect defects with a YOLOv5 or LAGNet checkpoint through stock YOLOv5's detect (every stock flag works).

    python detect.py --weights best.pt --source images/                      # LAMs made on the fly by the guide
    python detect.py --weights best.pt --source images/ --guide guide.pt --save-lam
    python detect.py --weights best.pt --source images/ --lams lams/         # precomputed LAMs (<stem>.png)

For a LAGNet checkpoint each image needs its LAM: --lams DIR reads <DIR>/<stem>.png; otherwise the guide
YOLOv5 makes it on the fly (--guide, default: the guide recorded in the manifest of the LAMs the model was
trained on, if that file still exists), blending as that manifest records (a model trained on grey maps gets grey
maps; one trained on blank LAMs, the image itself). Annotated images land in runs/detect/exp*; --save-lam adds lams/.
"""
import argparse
import os
from pathlib import Path

import cv2

from ..data.lam import BlankLAMs, LAMGenerator
from ..data.pairs import paired_inference
from . import common

EXTRA = argparse.ArgumentParser(add_help=False, description='LAGNet options (all other flags are stock YOLOv5 '
                                'detect.py flags)')
EXTRA.add_argument('--guide', help='guide YOLOv5 checkpoint that makes LAMs on the fly')
EXTRA.add_argument('--guide-imgsz', type=int, help='guide inference size (default: as recorded in the manifest, '
                                                  'else --imgsz)')
EXTRA.add_argument('--lams', help='folder of precomputed LAMs named <image stem>.png')
EXTRA.add_argument('--save-lam', action='store_true', help='also save each LAM to <run>/lams/')


def lam_source(extra, ckpt, imgsz, device):
    if extra.lams:
        folder = Path(extra.lams)
        if not folder.is_dir():
            raise FileNotFoundError(f'--lams {folder}: no such folder')

        def read(path, im0):
            f = folder / f'{Path(path).stem}.png'
            lam = cv2.imread(str(f))
            if lam is None:
                raise FileNotFoundError(f'no readable LAM {f} for {path}; make LAMs with python gen_lam.py --weights '
                                        f'<guide.pt> --source <images> --out {folder}')
            return lam
        return read
    manifest = common.lam_manifest(ckpt)
    if manifest.get('blank') and not extra.guide:  # trained on blank LAMs: each image is its own LAM
        generator = BlankLAMs()
    else:
        guide = common.guide_for(manifest, extra.guide, "a LAGNet model needs each image's LAM",
                                 ' or --lams <folder of <stem>.png LAMs>')
        generator = LAMGenerator(guide, extra.guide_imgsz or manifest.get('imgsz') or imgsz, device,
                                 **common.lam_recipe(manifest))
    return lambda path, im0: generator([im0])[0][0]


def check_output_folder(save_dir, source):
    """Refuse a run folder inside the source folder: detect would write into a folder of input images."""
    src = Path(os.path.abspath(source))
    out = Path(os.path.abspath(save_dir))
    if src.is_dir() and (out == src or src in out.parents):
        raise common.UsageError(f'the run folder {out} is inside --source {src}: results would be written among '
                                'the input images. Choose another --project (default runs/detect)')


def run(argv):
    import yolov5.detect as stock
    from yolov5.utils.general import increment_path
    extra, rest = EXTRA.parse_known_args(argv)
    common.require(rest, weights=common.WEIGHTS_HINT, source='an image, a folder, a glob or a video')
    opt = common.stock_opt(stock.parse_opt, 'detect.py', rest)
    weights = common.first_weights(opt)
    model, ckpt = common.checkpoint_model(weights) if common.is_checkpoint(weights) else (None, {})
    save_dir = increment_path(Path(opt.project) / opt.name, exist_ok=opt.exist_ok)
    check_output_folder(save_dir, opt.source)
    opt.name, opt.exist_ok = save_dir.name, True  # stock saves into the folder chosen here (LAMs go beside)
    if model is None or model.yaml.get('ch', 3) != 6:  # an RGB model, or an exported one (its guide inside)
        if extra.guide or extra.lams or extra.save_lam:
            raise common.UsageError(f'{weights} is an RGB YOLOv5 model; --guide/--lams/--save-lam need a LAGNet '
                                    'checkpoint (trained with --cfg models/lagnet-*.yaml)')
        return stock.run(**vars(opt))
    source = str(opt.source)
    if source.isnumeric() or source.lower().startswith(('rtsp://', 'rtmp://', 'http', 'screen')) or \
            source.endswith('.streams'):
        raise common.UsageError(f'--source {source}: LAGNet detection reads images, folders, globs and video files')
    imgsz = opt.imgsz[0] if isinstance(opt.imgsz, (list, tuple)) else opt.imgsz
    source_fn = lam_source(extra, ckpt, imgsz, opt.device)
    with paired_inference(lam_source=source_fn, save_dir=save_dir / 'lams' if extra.save_lam else None):
        stock.run(**vars(opt))


def main(argv=None):
    return common.main('detect.py', run, argv, stock='yolov5.detect', doc=__doc__, extra=EXTRA)
