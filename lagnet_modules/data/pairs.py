"""Pair-aware YOLOv5 data loading: each sample is one 6-channel tensor, image (0-2) and its LAM (3-5), both RGB.

Which images have LAMs, and where, is decided once, as a :class:`PairSpec` value (model input channels + LAM
layout, see :mod:`lagnet_modules.data.layout`), and handed to :func:`building_pairs`: inside that block stock
``create_dataloader`` builds :class:`PairedImagesAndLabels`. That dataset runs stock ``__getitem__`` with the
pair-aware augmentations below swapped in for the call.

The pair travels through YOLOv5's own augmentation code as one array, so every geometric step is drawn once and
applied to both. The channel order is one rule, :func:`stack_pair`: inside the loader a pair is ``[LAM_BGR,
IMAGE_BGR]``, so that YOLOv5's own final ``[::-1]`` (BGR -> RGB over the channel axis) yields the network's
``[IMAGE_RGB, LAM_RGB]``. Three stock ops cannot take six channels (OpenCV's border scalars hold four values);
:func:`letterbox` and :func:`random_perspective` run them per 3-channel half, replaying the same random draw, and
:func:`augment_hsv` touches only the image.
"""
import random
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.pool import ThreadPool
from pathlib import Path

import cv2
import numpy as np
import torch
from yolov5.utils import augmentations, dataloaders
from yolov5.utils.general import LOGGER, NUM_THREADS, xywhn2xyxy

from ..yolo import compat
from .lam import blend, blend_of, unblend
from .layout import LamLayout

PAIR_CHANNELS = 6  # RGB image + RGB LAM
LAM_HALF, IMAGE_HALF = slice(0, 3), slice(3, 6)  # inside the loader (BGR stacking, see stack_pair)


def stack_pair(image_bgr, lam_bgr):
    """(H, W, 3) image and LAM, BGR as OpenCV reads them -> the loader's (H, W, 6) array ``[LAM_BGR, IMAGE_BGR]``."""
    return np.concatenate((lam_bgr, image_bgr), 2)


def to_network(pair_hwc):
    """Loader array (H, W, 6) -> network input (6, H, W) ``[IMAGE_RGB, LAM_RGB]``: stock YOLOv5's own conversion."""
    return np.ascontiguousarray(pair_hwc.transpose((2, 0, 1))[::-1])


def network_input(image_rgb, lam_rgb):
    """(B, 3, H, W) image and LAM tensors in RGB -> the (B, 6, H, W) LAGNet input."""
    return torch.cat((image_rgb, lam_rgb), 1)


@dataclass(frozen=True)
class PairSpec:
    """What a model reads: its input channels and, for LAGNet, where each image's LAM lies."""
    channels: int = 3
    layout: LamLayout = field(default_factory=LamLayout)

    @property
    def paired(self):
        return self.channels == PAIR_CHANNELS

    @classmethod
    def of(cls, channels, data=None):
        """``channels`` from the model YAML or checkpoint; ``data``: a checked data dict (or None)."""
        if channels not in (3, PAIR_CHANNELS):
            raise ValueError(f'models take 3 (RGB) or {PAIR_CHANNELS} (RGB + LAM) input channels, not {channels}')
        return cls(channels, LamLayout.from_data(data) if data else LamLayout())


class MissingLAMError(FileNotFoundError):
    """Images of a dual-input dataset without their LAM."""


def _require_pair(im):
    if im.ndim != 3 or im.shape[2] != PAIR_CHANNELS:
        raise ValueError(f'expected an image+LAM pair of shape (H, W, {PAIR_CHANNELS}), got {im.shape}')


def without_lam(im):
    """A pair whose LAM is replaced by the image itself: what ``gen_lam --blank`` writes (a blank LAM,
    no location information). Training with hyp ``lam_dropout: p`` does this to each loaded image with probability
    p, so the image branch must find defects the guide misses instead of copying the guide's map (issue 11)."""
    _require_pair(im)
    out = im.copy()  # never the RAM cache's array
    out[..., LAM_HALF] = im[..., IMAGE_HALF]
    return out


MISS_MARGIN = 0.25  # a missed box is erased this fraction of its size beyond each side: a map's blob is wider


def map_floor(im, encoding, step=4):
    """The level where the guide marks nothing in this pair: the 5th percentile of its LAM's map M (decoded with
    :func:`~lagnet_modules.data.lam.unblend`, every ``step``-th pixel, for speed). 0 for LAMs without a map."""
    if not encoding['beta']:
        return 0
    sample = im[::step, ::step]
    return float(np.percentile(unblend(sample[..., LAM_HALF], sample[..., IMAGE_HALF], **encoding), 5))


def without_boxes(im, boxes, encoding):
    """A pair whose LAM marks nothing inside ``boxes`` ((n, 4) pixel xyxy): there it becomes what its guide draws
    where it marks nothing, α · image + β · ColorMap(floor) (Eq. 1 with M at :func:`map_floor`, so an erased box
    looks like the rest of this map's background, not like a sign; ``encoding``: the LAMs' :func:`blend` arguments).
    Training with hyp ``lam_miss: p`` does this to each labelled box with probability p: a simulated guide miss, so
    the image branch learns the defects a guide misses while the map still guides the rest (issue 11)."""
    _require_pair(im)
    if not len(boxes):  # the usual case: no copy, no decoding
        return im
    out = im.copy()  # never the RAM cache's array
    floor = map_floor(im, encoding)
    for x1, y1, x2, y2 in np.asarray(boxes).round().astype(int):
        image = np.ascontiguousarray(im[y1:y2, x1:x2, IMAGE_HALF])
        if image.size:
            out[y1:y2, x1:x2, LAM_HALF] = blend(image, np.full(image.shape[:2], floor), **encoding)
    return out


def missed_boxes(labels, hw, p):
    """Of ``labels`` (n, 5) normalized ``cls x y w h``, the boxes a guide missing each with probability ``p`` would
    miss, grown by :data:`MISS_MARGIN` and in pixels of an image of size ``hw``: (m, 4) xyxy."""
    h, w = hw
    missed = labels[[random.random() < p for _ in range(len(labels))], 1:5]
    grown = missed * (1, 1, 1 + 2 * MISS_MARGIN, 1 + 2 * MISS_MARGIN)
    return np.clip(xywhn2xyxy(grown, w, h), 0, (w, h, w, h))


LAM_HYPS = ('lam_dropout', 'lam_miss')  # LAGNet's own training hyps: probabilities, 0 (the paper's) when absent


def lam_hyp(hyp, key):
    """A hyp dict's ``key`` (one of :data:`LAM_HYPS`; 0 when absent) as a float; ValueError if not a probability."""
    value = hyp.get(key, 0.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(f'{key}: {value} is not a probability; set it between 0 and 1 (0: the paper)')
    return float(value)


def letterbox(im, *args, **kwargs):
    """Stock letterbox applied to both halves of a pair (cv2.copyMakeBorder refuses 6 channels)."""
    _require_pair(im)
    lam, ratio, pad = augmentations.letterbox(np.ascontiguousarray(im[..., LAM_HALF]), *args, **kwargs)
    image, _, _ = augmentations.letterbox(np.ascontiguousarray(im[..., IMAGE_HALF]), *args, **kwargs)
    return np.concatenate((lam, image), 2), ratio, pad


def random_perspective(im, targets=(), segments=(), *args, **kwargs):
    """Stock random_perspective, one draw applied to both halves of a pair (border value 114 in all six channels)."""
    _require_pair(im)
    state = random.getstate()
    lam, _ = augmentations.random_perspective(np.ascontiguousarray(im[..., LAM_HALF]), np.copy(targets),
                                              list(segments), *args, **kwargs)
    random.setstate(state)  # the image half replays the very same draw
    image, targets = augmentations.random_perspective(np.ascontiguousarray(im[..., IMAGE_HALF]), targets, segments,
                                                      *args, **kwargs)
    return np.concatenate((lam, image), 2), targets


def augment_hsv(im, *args, **kwargs):
    """Stock HSV jitter on the image half only: a LAM is a map, not a photo."""
    _require_pair(im)
    image = np.ascontiguousarray(im[..., IMAGE_HALF])
    augmentations.augment_hsv(image, *args, **kwargs)
    im[..., IMAGE_HALF] = image


class _ImageOnly:
    """Photometric albumentations (if installed) applied to the image half only."""

    def __init__(self, transform):
        self.transform = transform

    def __call__(self, im, labels):
        image, labels = self.transform(np.ascontiguousarray(im[..., IMAGE_HALF]), labels)
        im = im.copy()
        im[..., IMAGE_HALF] = image
        return im, labels


def _check_lam(args):
    lam_file, (w, h) = args
    if not Path(lam_file).is_file():
        return 'missing'
    lam = cv2.imread(lam_file)
    if lam is None:
        return 'corrupt'
    return 'resized' if lam.shape[:2] != (h, w) else None


class PairedImagesAndLabels(dataloaders.LoadImagesAndLabels):
    """YOLOv5's dataset with each image paired with its LAM (``spec.layout``); same labels, same augmentation draws.

    Hyps ``lam_dropout`` and ``lam_miss`` (training only; 0, the paper's, when absent): see :func:`without_lam` and
    :func:`without_boxes`."""
    lam_dropout = lam_miss = 0.0  # 0 while stock __init__ runs: its RAM cache is filled through load_image

    def __init__(self, path, img_size=640, batch_size=16, *args, spec=PairSpec(PAIR_CHANNELS), cache_images=False,
                 prefix='', **kwargs):
        self.spec = spec
        super().__init__(path, img_size, batch_size, *args, cache_images=False, prefix=prefix, **kwargs)
        problems = self._check_lams(prefix)
        if problems['corrupt'] or cache_images:  # build again: without the corrupt pairs, and/or caching pairs
            keep = set(self.im_files) - {self.im_files[i] for i in problems['corrupt']}
            with tempfile.TemporaryDirectory() as tmp:
                listing = Path(tmp) / 'pairs.txt'
                listing.write_text('\n'.join(sorted(keep)) + '\n')
                source = listing if problems['corrupt'] else path
                super().__init__(source, img_size, batch_size, *args, cache_images=cache_images, prefix=prefix,
                                 **kwargs)
        if getattr(self.albumentations, 'transform', None) is not None:  # None when not augmenting
            self.albumentations = _ImageOnly(self.albumentations)
        training = self.augment and self.hyp
        self.lam_dropout, self.lam_miss = (lam_hyp(self.hyp, k) if training else 0.0 for k in LAM_HYPS)
        self.lam_blend = blend_of(self.spec.layout.manifest(self.im_files[0])) if self.lam_miss else None

    def __getitem__(self, index):
        with compat.pair_augmentations(letterbox, random_perspective, augment_hsv):
            return super().__getitem__(index)

    def load_mosaic9(self, index):
        with compat.pair_augmentations(letterbox, random_perspective, augment_hsv):
            return super().load_mosaic9(index)

    def lam_file(self, i):
        return self.lam_files[i]

    def _check_lams(self, prefix):
        lam_files = self.lam_files
        with ThreadPool(NUM_THREADS) as pool:
            status = pool.map(_check_lam, zip(lam_files, self.shapes))
        problems = {k: [i for i, s in enumerate(status) if s == k] for k in ('missing', 'corrupt', 'resized')}
        if problems['missing']:
            n, names = len(problems['missing']), [lam_files[i] for i in problems['missing'][:3]]
            raise MissingLAMError(
                f"{n} of {len(lam_files)} images have no LAM, e.g. {', '.join(names)} (for "
                f"{self.im_files[problems['missing'][0]]}). Generate them with a trained guide YOLOv5: "
                'python gen_lam.py --weights <guide.pt> --data <data.yaml>')
        if problems['corrupt']:
            LOGGER.warning(f"{prefix}WARNING ⚠️ {len(problems['corrupt'])} corrupt LAMs, their images are skipped: "
                           f"{', '.join(lam_files[i] for i in problems['corrupt'][:5])}")
        if problems['resized']:
            LOGGER.warning(f"{prefix}WARNING ⚠️ {len(problems['resized'])} LAMs differ in size from their image and "
                           f"are resized to it: {', '.join(lam_files[i] for i in problems['resized'][:5])}")
        return problems

    @property
    def npy_files(self):
        return self._npy_files

    @npy_files.setter
    def npy_files(self, files):
        # Stock assigns npy_files once its image list is final (filtered, rect-sorted): the LAM of each image is
        # derived here, once, from that same list. --cache disk: pairs are cached beside their LAM, never in a
        # folder of input images.
        self.lam_files = self.spec.layout.paths(self.im_files)
        self._npy_files = [Path(f).with_suffix('.pair.npy') for f in self.lam_files]

    def read_pair(self, i):
        """Read image i and its LAM from disk: (H, W, 6) uint8, see :func:`stack_pair`."""
        f, lam_file = self.im_files[i], self.lam_files[i]
        im = cv2.imread(f)
        assert im is not None, f'Image Not Found {f}'
        lam = cv2.imread(lam_file)
        assert lam is not None, f'LAM Not Found or corrupt {lam_file}'
        if lam.shape[:2] != im.shape[:2]:
            lam = cv2.resize(lam, im.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        return stack_pair(im, lam)

    def load_image(self, i):
        im, hw0, hw = self._load_pair(i)
        if self.lam_dropout and random.random() < self.lam_dropout:  # no draw at 0: the paper's stream is kept
            im = without_lam(im)
        elif self.lam_miss:
            im = without_boxes(im, missed_boxes(self.labels[i], hw, self.lam_miss), self.lam_blend)
        return im, hw0, hw

    def _load_pair(self, i):
        if self.ims[i] is not None:
            return self.ims[i], self.im_hw0[i], self.im_hw[i]
        fn = self.npy_files[i]
        im = np.load(fn) if fn.exists() else self.read_pair(i)
        h0, w0 = im.shape[:2]
        r = self.img_size / max(h0, w0)
        if r != 1:  # the stock resize rule, per half: OpenCV's INTER_AREA takes at most four channels
            interp = cv2.INTER_LINEAR if (self.augment or r > 1) else cv2.INTER_AREA
            size = (int(np.ceil(w0 * r)), int(np.ceil(h0 * r)))
            im = np.concatenate([cv2.resize(np.ascontiguousarray(im[..., half]), size, interpolation=interp)
                                 for half in (LAM_HALF, IMAGE_HALF)], 2)
        return im, (h0, w0), im.shape[:2]

    def cache_images_to_disk(self, i):
        if not self.npy_files[i].exists():
            np.save(self.npy_files[i].as_posix(), self.read_pair(i))

    def check_cache_ram(self, safety_margin=0.1, prefix=''):
        return super().check_cache_ram(1 + 2 * safety_margin, prefix)  # a pair needs twice an image's memory


class PairDatasets:
    """Stands in for the ``LoadImagesAndLabels`` class in stock ``create_dataloader``: builds pair datasets."""
    collate_fn = staticmethod(dataloaders.LoadImagesAndLabels.collate_fn)
    collate_fn4 = staticmethod(dataloaders.LoadImagesAndLabels.collate_fn4)

    def __init__(self, spec):
        self.spec = spec

    def __call__(self, *args, **kwargs):
        return PairedImagesAndLabels(*args, spec=self.spec, **kwargs)


@contextmanager
def building_pairs(spec):
    """Within the block, stock YOLOv5 (``create_dataloader``, train, val) loads data as ``spec`` says: RGB+LAM pairs
    for a 6-channel model, stock datasets otherwise."""
    if not spec.paired:
        yield
        return
    with compat.pair_datasets(PairDatasets(spec)):
        yield


class PairedLoadImages(dataloaders.LoadImages):
    """Stock inference loader that also yields each image's LAM: ``im`` becomes (6, H, W), image then LAM (RGB).

    ``lam_source(path, im0) -> LAM (BGR, im0's size)`` makes or reads the LAM; the pair is letterboxed with the
    image's own geometry. ``save_dir``: also write each LAM there as <stem>.png (--save-lam).
    """

    def __init__(self, path, *args, lam_source, save_dir=None, **kwargs):
        super().__init__(path, *args, **kwargs)
        self.lam_source, self.save_dir = lam_source, save_dir

    def __next__(self):
        path, _, im0, cap, s = super().__next__()
        lam = self.lam_source(path, im0)
        if lam.shape[:2] != im0.shape[:2]:
            lam = cv2.resize(lam, im0.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        if self.save_dir:
            name = Path(path).stem + (f'_{self.frame}' if self.mode == 'video' else '')
            Path(self.save_dir).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(Path(self.save_dir) / f'{name}.png'), lam)
        boxed = letterbox(stack_pair(im0, lam), self.img_size, stride=self.stride, auto=self.auto)[0]
        return path, to_network(boxed), im0, cap, s


def paired_inference(**kwargs):
    """Within the block, stock detect reads images through :class:`PairedLoadImages` configured by ``kwargs``."""
    return compat.detect_loader(lambda *a, **k: PairedLoadImages(*a, **k, **kwargs))
