"""Every patch this project makes to the ``yolov5`` package, each with its reason. Applied once by ``import lagnet_modules``.

Nothing else in the project modifies ``yolov5``; if a patch is needed, it goes here.
"""
import types
import warnings
from contextlib import contextmanager
from copy import deepcopy
from pathlib import Path

import matplotlib
import torch

# yolov5 imports pkg_resources, which warns on every import; the pin in requirements.txt is the real answer.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

# A font that an installed package ships: YOLOv5 would download Arial.ttf, and this project runs offline.
FONT = Path(matplotlib.get_data_path()) / 'fonts' / 'ttf' / 'DejaVuSans.ttf'


def load_checkpoint(f, map_location='cpu'):
    """Load a YOLOv5/LAGNet checkpoint. A checkpoint is a pickle, i.e. code: load only files you trust.

    torch >= 2.6 defaults to ``weights_only=True``, which refuses the pickled model objects that YOLOv5
    checkpoints are made of, so this loader asks for the full unpickler deliberately.
    """
    return torch.load(f, map_location=map_location, weights_only=False)


class _TorchWithCheckpointLoad(types.ModuleType):
    """``torch`` as seen by a yolov5 module, except that ``torch.load`` is :func:`load_checkpoint`."""

    def __init__(self):
        super().__init__('torch')

    def __getattr__(self, name):
        return getattr(torch, name)

    @staticmethod
    def load(f, map_location=None, **kwargs):
        return load_checkpoint(f, map_location=map_location)


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
    """Stock check_dataset, with a bare name found in this project's ``data/`` and a relative ``path:`` taken from
    this repository's root (stock resolves both against the installed yolov5 package)."""
    from yolov5.utils.general import yaml_load

    from .paths import ROOT, find_file
    if isinstance(data, (str, Path)) and Path(data).suffix in ('.yaml', '.yml'):
        data = yaml_load(find_file(data, 'data'))
        if data.get('path') and not Path(data['path']).is_absolute():
            data['path'] = str((ROOT / data['path']).resolve())
    return ORIGINALS['yolov5.utils.general', 'check_dataset'](data, autodownload)


def warmup(self, imgsz=(1, 3, 640, 640)):
    """DetectMultiBackend.warmup with the model's own input channels (stock always feeds 3)."""
    model = getattr(self, 'model', None)
    ch = model.yaml.get('ch', 3) if self.pt and hasattr(model, 'yaml') else imgsz[1]
    return ORIGINALS['yolov5.models.common.DetectMultiBackend', 'warmup'](self, (imgsz[0], ch, *imgsz[2:]))


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


ORIGINALS = {}  # (module name, attribute) -> what yolov5 shipped, for tests that compare with stock


@contextmanager
def _swapped(module, name, value):
    stock = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, stock)


def building_datasets_with(cls):
    """Within the block, stock ``create_dataloader`` builds ``cls`` (it names LoadImagesAndLabels directly)."""
    import yolov5.utils.dataloaders as dataloaders
    return _swapped(dataloaders, 'LoadImagesAndLabels', cls)


def detecting_with_loader(factory):
    """Within the block, stock ``detect.run`` reads images through ``factory`` (it names LoadImages directly)."""
    import yolov5.detect as detect
    return _swapped(detect, 'LoadImages', factory)


def apply():
    """Apply every permanent patch below once. Each line: target, replacement, reason. (The two temporary swaps,
    for pair datasets and paired inference, are the context managers above.)"""
    if ORIGINALS:
        return
    import yolov5.models.common as common
    import yolov5.models.experimental as experimental
    import yolov5.models.yolo as yolo
    import yolov5.train as train
    import yolov5.utils.dataloaders as dataloaders
    import yolov5.utils.general as general
    import yolov5.utils.loggers as loggers
    import yolov5.utils.plots as plots
    import yolov5.val as val

    from . import paired_data
    from . import plots as pair_plots
    from .registry import parse_model

    torch_for_checkpoints = _TorchWithCheckpointLoad()
    patches = [
        (yolo, 'parse_model', parse_model),  # build models through the layer registry: LAGNet layers, no eval
        (general, 'check_font', check_font),  # no font download at run time (offline)
        (plots, 'check_font', check_font),  # same, as imported by plots
        (plots, 'check_pil_font', check_pil_font),  # draw labels with a font matplotlib ships
        (general, 'check_amp', check_amp),  # offline, and right for 6-channel models
        (train, 'check_amp', check_amp),  # same, as imported by train
        (general, 'torch', torch_for_checkpoints),  # strip_optimizer loads a full checkpoint (torch>=2.6 weights_only)
        (experimental, 'torch', torch_for_checkpoints),  # attempt_load: same
        (train, 'torch', torch_for_checkpoints),  # --weights / --resume: same
        (general, 'check_dataset', check_dataset),  # find data YAMLs in this project; relative paths from its root
        (train, 'check_dataset', check_dataset),  # same, as imported by train
        (val, 'check_dataset', check_dataset),  # same, as imported by val
        (dataloaders, 'letterbox', paired_data.letterbox),  # 6-channel pairs: copyMakeBorder takes <= 4 channels
        (dataloaders, 'random_perspective', paired_data.random_perspective),  # pairs: one draw, 114 in all channels
        (dataloaders, 'augment_hsv', paired_data.augment_hsv),  # pairs: HSV jitter on the image, never the LAM
        (train, 'create_dataloader', paired_data.create_dataloader),  # dual-input models load RGB+LAM pairs
        (val, 'create_dataloader', paired_data.create_dataloader),  # same for validation
        (common.DetectMultiBackend, 'warmup', warmup),  # warm up 6-channel models with 6 channels
        (loggers, 'plot_images', pair_plots.plot_images),  # train_batch*.jpg: each image beside its LAM
        (val, 'plot_images', pair_plots.plot_images),  # val_batch*.jpg: same
        (loggers, 'log_tensorboard_graph', pair_plots.log_tensorboard_graph),  # trace with the model's channels
    ]
    for module, name, value in patches:
        if not hasattr(module, name):
            raise ImportError(f'yolov5 {module.__name__}.{name} not found: this plugin needs yolov5==7.0.14')
        owner = module.__name__ if isinstance(module, types.ModuleType) else f'{module.__module__}.{module.__name__}'
        ORIGINALS[owner, name] = getattr(module, name)
        setattr(module, name, value)
