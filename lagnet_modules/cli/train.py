"""Train YOLOv5 or LAGNet with stock YOLOv5's trainer.

    python train.py --cfg models/lagnet-l.yaml --data neu.yaml            # LAGNet (lagnet-s.yaml: the small one)
    python train.py --cfg yolov5l.yaml --data neu.yaml                    # RGB baseline / LAM guide
    python train.py --resume [runs/train/exp/weights/last.pt]

For LAGNet configs (YAML `ch: 6`) the paper's recipe is the default: --hyp hyp.lagnet.yaml, --epochs 500, cosine LR
(--no-cos-lr turns it off), batch 16 and 640 px (stock defaults); any flag you give wins. Training data are RGB+LAM
pairs: make the LAMs first with gen_lam.py. Models train from scratch unless --weights names a file (nothing is
downloaded). --backbone-weights FILE loads a torchvision MobileNetV3 state dict (lagnet-s/-l) or the backbone of a
trained YOLOv5 of the same width (dual-CSPDarkNet configs, e.g. the guide's best.pt) into both LAGNet branches.
"""
import argparse
import pickle
from pathlib import Path

import torch
import yaml

from ..branches import load_yolov5_backbone
from ..data.pairs import LAM_HYPS, PairSpec, building_pairs, lam_hyp
from ..mobilenetv3 import load_mobilenetv3_weights
from ..paths import find_file
from ..yolo import compat
from . import common

RECIPE = {'--epochs': '500', '--hyp': 'hyp.lagnet.yaml'}  # the paper's, for 6-channel configs; before the user's flags

EXTRA = argparse.ArgumentParser(add_help=False, description='LAGNet options (all other flags are stock YOLOv5 '
                                'train.py flags)')
EXTRA.add_argument('--no-cos-lr', action='store_true', help='LAGNet configs: linear LR instead of the recipe\'s cosine')
EXTRA.add_argument('--backbone-weights', metavar='FILE', help='loaded into both branches before training: a torchvision '
                   'MobileNetV3 state dict (Large for lagnet-l, Small for lagnet-s; `imagenet` needs a download) or a '
                   'YOLOv5 checkpoint of the same width for dual-CSPDarkNet configs (e.g. the guide\'s best.pt)')

BROKEN = {'noval': 'yolov5 7.0.14 crashes after the first epoch without validation (its train loop logs map50s, '
                   'which only validation sets); leave --noval out: validation runs every epoch',
          'evolve': 'yolov5 7.0.14 --evolve trains without validation, which crashes after the first epoch (map50s '
                    'unset); tune hyperparameters with separate runs of --hyp FILE'}


def backbone_loader(source):
    """``Model`` factory for stock train: builds the model, then loads backbone weights into both branches: a
    torchvision MobileNetV3 state dict (lagnet-s/-l) or a YOLOv5 checkpoint of the same width (dual-CSPDarkNet)."""
    if source == 'imagenet':
        raise common.UsageError('--backbone-weights imagenet needs torchvision to download the ImageNet weights, and '
                                'this project runs offline: pass a state dict file, saved on a connected machine with '
                                'torch.save(torchvision.models.mobilenet_v3_large(weights="IMAGENET1K_V1").state_dict(), '
                                "'mobilenet_v3_large.pth')")
    if not Path(source).is_file():
        raise FileNotFoundError(f'--backbone-weights {source}: no such file')
    try:
        state = torch.load(source, map_location='cpu', weights_only=True)  # a plain state dict: no code inside
        state = state.get('state_dict', state) if isinstance(state, dict) else state
        load, what = load_mobilenetv3_weights, 'MobileNetV3'
    except pickle.UnpicklingError:  # pickled modules: a YOLOv5 checkpoint (trusted files only, as for --weights)
        state, load, what = common.checkpoint_model(source)[0].float(), load_yolov5_backbone, 'YOLOv5 backbone'
    stock_model = compat.original('yolov5.train', 'Model')

    def build(*args, **kwargs):
        model = stock_model(*args, **kwargs)
        try:
            n = load(model, state)
        except ValueError as e:
            raise common.UsageError(f'--backbone-weights {source}: {e}') from None
        from yolov5.utils.general import LOGGER
        LOGGER.info(f'Loaded {n} {what} tensors from {source} into both branches')
        return model

    return build


def parse(argv):
    """(stock opt, LAGNet options, model input channels, data YAML) for a train.py command line."""
    import yolov5.train as stock
    extra, rest = EXTRA.parse_known_args(argv)
    rest = ['--weights', '', *rest]  # from scratch unless the user names a file: stock would download yolov5s.pt
    opt = common.stock_opt(stock.parse_opt, 'train.py', rest)
    for flag, why in BROKEN.items():
        if getattr(opt, flag):
            raise common.UsageError(f'--{flag} is not supported: {why}')
    if opt.resume:
        from yolov5.utils.general import get_latest_run
        if extra.backbone_weights:
            raise common.UsageError('--backbone-weights starts a training; --resume continues one from its checkpoint')
        last = opt.resume if isinstance(opt.resume, str) else get_latest_run()
        if not last or not Path(last).is_file():
            raise FileNotFoundError(f'nothing to resume: {last or "no runs/**/last*.pt under this folder"}')
        model, ckpt = common.checkpoint_model(last)
        return opt, extra, model.yaml.get('ch', 3), (ckpt.get('opt') or {}).get('data')
    if not opt.data or str(opt.data).endswith('coco128.yaml'):  # stock's default dataset would be downloaded
        raise common.UsageError('--data is required, e.g. --data neu.yaml (make it with python data/scripts/'
                                'prepare_neu.py) or --data synthetic.yaml (python data/scripts/make_synthetic.py)')
    opt.data = str(find_file(opt.data, 'data'))
    if opt.cfg:
        opt.cfg = str(find_file(opt.cfg, 'models'))
    ch = common.input_channels(opt.cfg, opt.weights)
    if ch == 6:  # the paper's recipe as defaults: prepended, so that the user's own flags come later and win
        recipe = [x for kv in RECIPE.items() for x in kv] + ([] if extra.no_cos_lr else ['--cos-lr'])
        opt = common.stock_opt(stock.parse_opt, 'train.py', [*recipe, *rest])
        opt.cfg, opt.data = str(find_file(opt.cfg, 'models')), str(find_file(opt.data, 'data'))
    elif extra.backbone_weights:
        raise common.UsageError(f'--backbone-weights loads LAGNet branches; {opt.cfg or opt.weights} is an RGB '
                                'YOLOv5 model (use --cfg models/lagnet-s.yaml or lagnet-l.yaml)')
    if extra.no_cos_lr:
        opt.cos_lr = False
    opt.hyp = str(find_file(opt.hyp, 'data/hyps'))
    try:
        hyp = yaml.safe_load(Path(opt.hyp).read_text()) or {}
        for key in LAM_HYPS:
            lam_hyp(hyp, key)
    except ValueError as e:  # the loader would raise it too, after the dataset scan: say it now, with the file
        raise common.UsageError(f'{opt.hyp}: {e}') from None
    return opt, extra, ch, opt.data


def run(argv, callbacks=None):
    """Train as the command line ``argv`` says; ``callbacks``: a stock ``yolov5.utils.callbacks.Callbacks``."""
    import yolov5.train as stock
    from yolov5.utils.callbacks import Callbacks
    opt, extra, ch, data = parse(argv)
    if not opt.resume:
        common.require_images(data)
    if ch == 6 and not opt.resume:  # stock saves opt in every checkpoint: val and detect can tell which LAMs it read
        opt.lam_manifest = common.split_lam_manifest(data, 'train')
    spec = PairSpec.of(ch, common.data_yaml(data) if data else None)
    with building_pairs(spec), compat.building_models(backbone_loader(extra.backbone_weights)
                                                       if extra.backbone_weights else None):
        stock.main(opt, callbacks or Callbacks())
    return opt


def main(argv=None):
    return common.main('train.py', run, argv, stock='yolov5.train', doc=__doc__, extra=EXTRA)
