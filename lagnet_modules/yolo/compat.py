"""Every change this project makes to the ``yolov5`` package, each with its reason. Nothing else touches yolov5.

Importing this module (or any of ``lagnet_modules``) changes nothing. :func:`install` applies :func:`patches`, the
table of permanent patches, after checking the yolov5 version they were written against; :func:`uninstall` puts
every original back. The entry points (train.py, val.py, detect.py, gen_lam.py, ...) call :func:`install`; so does
anything else that wants stock YOLOv5 to drive LAGNet::

    import lagnet_modules
    lagnet_modules.install()       # yolov5.models.yolo.Model now builds models/lagnet-l.yaml

Five more swaps are temporary, for one ``with`` block each: :func:`pair_datasets` (stock ``create_dataloader``
builds RGB+LAM pair datasets), :func:`pair_augmentations` (stock dataset code augments pairs),
:func:`building_models` (stock train builds its model through a factory, e.g. to load MobileNetV3 weights),
:func:`detect_loader` (stock detect reads images with their LAMs) and :func:`recording_metrics` (stock val
hands its per-class metrics to a callback).
"""
import importlib
import os
import sys
import warnings
from contextlib import contextmanager, nullcontext
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import torch

YOLOV5_VERSION = '7.0.14'  # the version every patch below was written against
# A font that an installed package ships: YOLOv5 would download Arial.ttf, and this project runs offline.
FONT = Path(matplotlib.get_data_path()) / 'fonts' / 'ttf' / 'DejaVuSans.ttf'
ENVIRON = 'os.environ'  # a Patch target: an environment variable instead of an attribute


@dataclass(frozen=True)
class Patch:
    """``target.name = replacement`` while installed. ``target``: a module, or ``module:Class``."""
    target: str
    name: str
    replacement: object
    reason: str


def load_checkpoint(f, map_location='cpu'):
    """Load a YOLOv5/LAGNet checkpoint. A checkpoint is a pickle, i.e. code: load only files you trust.

    torch >= 2.6 defaults to ``weights_only=True``, which refuses the pickled model objects that YOLOv5
    checkpoints are made of, so this loader asks for the full unpickler deliberately.
    """
    return torch.load(f, map_location=map_location, weights_only=False)


def check_font(font=None, progress=False):
    """No download: plots use :data:`FONT` (see ``check_pil_font``)."""


def check_pil_font(font=None, size=10):
    """The label font: DejaVu Sans from matplotlib, with the ``getsize`` that YOLOv5's Annotator calls (Pillow 10
    removed it)."""
    from PIL import ImageFont

    class Font(ImageFont.FreeTypeFont):
        def getsize(self, text):
            left, top, right, bottom = self.getbbox(text)
            return right, bottom

    return Font(str(FONT), size)


def check_dataset(data, autodownload=True):
    """Stock check_dataset, with a bare name found in this project's data YAMLs and a relative ``path:`` taken from
    the working directory (stock resolves both against the installed yolov5 package)."""
    from yolov5.utils.general import yaml_load

    from ..paths import find_file, resolve_data_path
    if isinstance(data, (str, Path)) and Path(data).suffix in ('.yaml', '.yml'):
        data = resolve_data_path(yaml_load(find_file(data, 'data')))
    return original('yolov5.utils.general', 'check_dataset')(data, autodownload)


def verify_image_label(args):
    """Stock verify_image_label, except that a truncated JPEG is skipped as corrupt: stock re-encodes it *in place*,
    overwriting the user's file."""
    from ..data.images import truncated_jpeg
    im_file, _, prefix = args
    if Path(im_file).is_file() and truncated_jpeg(im_file):
        msg = f'{prefix}WARNING ⚠️ {im_file}: ignoring corrupt image/label: truncated JPEG (no end marker)'
        return [None, None, None, None, 0, 0, 0, 1, msg]
    return original('yolov5.utils.dataloaders', 'verify_image_label')(args)


def pil_image_open():
    """Pillow's own ``Image.open``. ultralytics (which yolov5 imports) replaces it with a wrapper that, for any file
    Pillow cannot identify, pip-installs pi-heif at run time and then raises ModuleNotFoundError."""
    from PIL import Image
    patches_module = sys.modules.get('ultralytics.utils.patches')
    return getattr(patches_module, '_image_open', None) or Image.open


def warmup(self, imgsz=(1, 3, 640, 640)):
    """DetectMultiBackend.warmup with the model's own input channels (stock always feeds 3)."""
    model = getattr(self, 'model', None)
    ch = model.yaml.get('ch', 3) if self.pt and hasattr(model, 'yaml') else imgsz[1]
    return original('yolov5.models.common:DetectMultiBackend', 'warmup')(self, (imgsz[0], ch, *imgsz[2:]))


def check_amp(model):
    """Offline AMP check for any input width: FP32 vs autocast outputs of the model itself on one random image.

    Stock ``check_amp`` feeds a 3-channel photo and downloads yolov5n.pt to compare against.
    """
    from yolov5.utils.general import LOGGER, colorstr
    device = next(model.parameters()).device
    if device.type in ('cpu', 'mps'):
        return False  # AMP is only used on CUDA devices, as in stock
    m = deepcopy(model).eval()
    im = torch.rand(1, m.yaml.get('ch', 3), 256, 256, device=device)
    with torch.no_grad():
        a = m(im)[0].float()
        with torch.autocast('cuda'):
            b = m(im)[0].float()
    scale = torch.tensor([256.0] * 4 + [1.0] * (a.shape[-1] - 4), device=device)  # boxes in pixels, scores in [0, 1]
    ok = bool(torch.allclose(a / scale, b / scale, atol=0.1))
    LOGGER.info(f"{colorstr('AMP: ')}{'checks passed ✅' if ok else 'checks failed ❌, disabling AMP'}")
    return ok


class _StoppedClock:
    """A ``time`` module whose clock stands still (stock NMS reads the clock only through ``time.time()``)."""

    @staticmethod
    def time():
        return 0.0


def non_max_suppression(*args, **kwargs):
    """Stock non_max_suppression without its wall-clock limit: after 0.5 + 0.05 · batch seconds stock skips the rest
    of the batch, so on a busy CPU validation scores images it never looked at as missed."""
    with _swapped('yolov5.utils.general', {'time': _StoppedClock}):
        return importlib.import_module('yolov5.utils.general').non_max_suppression(*args, **kwargs)


def bbox_iou(box1, box2, xywh=True, GIoU=False, DIoU=False, CIoU=False, eps=1e-7):
    """Stock bbox_iou with the heights of (x, y, w, h) boxes clamped to ``eps``, as stock clamps those of xyxy boxes.

    Unclamped, CIoU's aspect term is atan(0 / 0) = NaN for a predicted box of zero size, i.e. size logits so far below
    zero that their sigmoid is exactly 0. An EMA model in its first epochs has such logits on some images: its
    running BN statistics lag behind the weights (on NEU-DET after epoch 1, neck activations with a std of about 15
    against 0.65 under batch statistics, SCEM's attention products 120-220), so LAGNet's validation box and
    objectness losses read nan for 2-3 epochs. A box with a height ≥ ``eps`` gets exactly stock's value.
    """
    if xywh:
        box1, box2 = (torch.cat((b[..., :3], b[..., 3:].clamp(min=eps)), -1) for b in (box1, box2))
    return original('yolov5.utils.loss', 'bbox_iou')(box1, box2, xywh, GIoU, DIoU, CIoU, eps)


def attempt_download_from_hub(repo_id, hf_token=None, revision=None):
    """No Hugging Face Hub lookup: weights are local files (None tells stock to read ``repo_id`` as a path)."""
    return None


def patches():
    """The permanent patches, applied by :func:`install`. Each row: target, attribute, replacement, reason."""
    from . import plots
    from .registry import parse_model
    return [
        Patch('yolov5.models.yolo', 'parse_model', parse_model, 'build models through the layer registry: '
              'LAGNet layers, no eval'),
        Patch('yolov5.utils.general', 'check_font', check_font, 'no font download at run time (offline)'),
        Patch('yolov5.utils.plots', 'check_font', check_font, 'same, as imported by plots'),
        Patch('yolov5.utils.plots', 'check_pil_font', check_pil_font, 'draw labels with a font matplotlib ships'),
        Patch('yolov5.utils.general', 'check_amp', check_amp, 'offline, and right for 6-channel models'),
        Patch('yolov5.train', 'check_amp', check_amp, 'same, as imported by train'),
        Patch(ENVIRON, 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1', "torch>=2.6 refuses YOLOv5's pickled checkpoints; "
              'torch documents this switch for loads that, like all of yolov5\'s, do not pass weights_only'),
        Patch('yolov5.utils.general', 'check_dataset', check_dataset, 'find data YAMLs in this project; a relative '
              'path: from the working directory'),
        Patch('yolov5.train', 'check_dataset', check_dataset, 'same, as imported by train'),
        Patch('yolov5.val', 'check_dataset', check_dataset, 'same, as imported by val'),
        Patch('PIL.Image', 'open', pil_image_open(), 'ultralytics, imported by yolov5, makes a file Pillow cannot '
              'read trigger a pip install at run time; corrupt images must be reported, nothing downloaded'),
        Patch('yolov5.utils.dataloaders', 'verify_image_label', verify_image_label, 'stock rewrites a truncated '
              'JPEG in place; skip it instead, never write to an input image'),
        Patch('yolov5.models.common:DetectMultiBackend', 'warmup', warmup, 'warm up 6-channel models with 6 channels'),
        Patch('yolov5.utils.loggers', 'plot_images', plots.plot_images, 'train_batch*.jpg: each image beside its LAM'),
        Patch('yolov5.val', 'plot_images', plots.plot_images, 'val_batch*.jpg: same'),
        Patch('yolov5.val', 'non_max_suppression', non_max_suppression, 'stock NMS gives up on a batch after a '
              'wall-clock limit: on a busy CPU it cut validation mAP@0.5 from 0.49 to 0.29, and best.pt is chosen by it'),
        Patch('yolov5.detect', 'non_max_suppression', non_max_suppression, 'same: detections must not depend on '
              'how busy the machine is'),
        Patch('yolov5.utils.loss', 'bbox_iou', bbox_iou, 'stock CIoU is NaN for a zero-size (x, y, w, h) box (it '
              "clamps heights of xyxy boxes only): early EMA models' validation losses read nan"),
        Patch('yolov5.utils.loggers', 'log_tensorboard_graph', plots.log_tensorboard_graph, 'trace with the '
              "model's own input channels"),
        Patch('yolov5.train', 'attempt_download_from_hub', attempt_download_from_hub, 'stock asks the Hugging Face '
              "Hub about every --weights ('' too): a network call, and a crash on huggingface_hub 1.x (no "
              'utils._errors), as on the GPU machine'),
        Patch('yolov5.models.common', 'attempt_download_from_hub', attempt_download_from_hub, 'same, for every '
              'checkpoint val.py and detect.py load'),
        Patch('yolov5.utils.downloads', 'attempt_download_from_hub', attempt_download_from_hub, 'same, '
              'in attempt_download'),
    ]


_originals = {}  # (target, name) -> the stock object, while installed
_MISSING = object()


def _resolve(target):
    module, _, cls = target.partition(':')
    obj = importlib.import_module(module)
    return getattr(obj, cls) if cls else obj


def _get(target, name):
    if target == ENVIRON:
        return os.environ.get(name, _MISSING)
    return getattr(_resolve(target), name)


def _set(target, name, value):
    if target == ENVIRON:
        if value is _MISSING:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    else:
        setattr(_resolve(target), name, value)


def installed():
    return bool(_originals)


def original(target, name):
    """The stock object behind a patched attribute (the attribute itself when not installed)."""
    return _originals.get((target, name)) or _get(target, name)


def check_version():
    import yolov5
    version = getattr(yolov5, '__version__', '?')
    if version != YOLOV5_VERSION:
        raise ImportError(f'lagnet_modules patches yolov5=={YOLOV5_VERSION}, but yolov5 {version} is installed: '
                          f'pip install yolov5=={YOLOV5_VERSION}')


def install():
    """Apply :func:`patches` (once; a second call does nothing). Raises ImportError for another yolov5 version."""
    if installed():
        return
    check_version()
    warnings.filterwarnings('ignore', message='Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected')
    table = patches()
    for p in table:  # check every target before changing any
        if p.target != ENVIRON and not hasattr(_resolve(p.target), p.name):
            raise ImportError(f'yolov5 {p.target}.{p.name} not found: lagnet_modules needs yolov5=={YOLOV5_VERSION}')
    for p in table:
        _originals[p.target, p.name] = _get(p.target, p.name)
        _set(p.target, p.name, p.replacement)


def uninstall():
    """Put every patched attribute back to the stock object."""
    for (target, name), stock in reversed(list(_originals.items())):
        _set(target, name, stock)
    _originals.clear()


@contextmanager
def _swapped(target, values):
    obj = _resolve(target)
    stock = {name: getattr(obj, name) for name in values}
    for name, value in values.items():
        setattr(obj, name, value)
    try:
        yield
    finally:
        for name, value in stock.items():
            setattr(obj, name, value)


def pair_datasets(factory):
    """Within the block, stock ``create_dataloader`` builds ``factory(...)`` datasets (it names LoadImagesAndLabels
    directly)."""
    return _swapped('yolov5.utils.dataloaders', {'LoadImagesAndLabels': factory})


def pair_augmentations(letterbox, random_perspective, augment_hsv):
    """Within the block, stock dataset code (``__getitem__``, ``load_mosaic``) augments with these pair-aware
    functions (it names them directly; a pair has six channels, which OpenCV's border fill refuses)."""
    return _swapped('yolov5.utils.dataloaders', {'letterbox': letterbox, 'random_perspective': random_perspective,
                                                 'augment_hsv': augment_hsv})


def building_models(factory):
    """Within the block, stock ``train`` builds its model with ``factory`` (it names Model directly); None: stock."""
    return _swapped('yolov5.train', {'Model': factory}) if factory else nullcontext()


def detect_loader(factory):
    """Within the block, stock ``detect.run`` reads images through ``factory`` (it names LoadImages directly)."""
    return _swapped('yolov5.detect', {'LoadImages': factory})


@contextmanager
def recording_metrics(callback):
    """Within the block, stock ``val.run`` passes what ``ap_per_class`` returns, and the target classes it was given,
    to ``callback(result, target_cls)`` (stock prints per-class P and R but returns neither)."""
    stock = original('yolov5.val', 'ap_per_class')

    def ap_per_class(tp, conf, pred_cls, target_cls, *args, **kwargs):
        result = stock(tp, conf, pred_cls, target_cls, *args, **kwargs)
        callback(result, target_cls)
        return result

    with _swapped('yolov5.val', {'ap_per_class': ap_per_class}):
        yield
