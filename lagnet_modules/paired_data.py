"""Pair-aware YOLOv5 data loading: each sample is one 6-channel tensor, image (0-2) and its LAM (3-5), both RGB.

Pairs are matched by file stem: ``.../images/<split>/<stem>.<ext>`` pairs with ``.../lams/<split>/<stem>.png``
(the rule YOLOv5 uses for ``/labels/``; a data YAML's ``lams:`` key renames the ``lams`` folder).

The pair travels through YOLOv5's own augmentation code as one array, so every geometric step is drawn
once and applied to both. Inside the loader the array is stacked ``[LAM_BGR, IMAGE_BGR]``: YOLOv5's final
``img[::-1]`` (BGR -> RGB over the channel axis) then yields ``[IMAGE_RGB, LAM_RGB]``. Three stock ops cannot
take six channels (OpenCV's border scalars hold four values); :func:`letterbox` and :func:`random_perspective`
run them per 3-channel half — replaying the same random draw — and :func:`augment_hsv` touches only the image.
For 3-channel input all three call stock YOLOv5 unchanged.
"""
import os
import random
import tempfile
from multiprocessing.pool import ThreadPool
from pathlib import Path

import cv2
import numpy as np
from yolov5.utils import augmentations, dataloaders
from yolov5.utils.general import LOGGER, NUM_THREADS

from . import compat

PAIR_CHANNELS = 6
LAM_HALF, IMAGE_HALF = slice(0, 3), slice(3, 6)  # inside the loader (BGR stacking); the output tensor is [image, LAM]
_stock = {name: getattr(augmentations, name) for name in ('letterbox', 'random_perspective', 'augment_hsv')}


class MissingLAMError(FileNotFoundError):
    """Images of a dual-input dataset without their LAM."""


def lam_paths(im_files, folder='lams'):
    """``.../images/<split>/<stem>.jpg`` -> ``.../<folder>/<split>/<stem>.png`` (last ``/images/`` only)."""
    sa, sb = f'{os.sep}images{os.sep}', f'{os.sep}{folder}{os.sep}'
    return [str(Path(sb.join(f.rsplit(sa, 1))).with_suffix('.png')) for f in im_files]


def _is_pair(im):
    return im.ndim == 3 and im.shape[2] == PAIR_CHANNELS


def letterbox(im, *args, **kwargs):
    """Stock letterbox, per 3-channel half for a pair (cv2.copyMakeBorder refuses 6 channels)."""
    if not _is_pair(im):
        return _stock['letterbox'](im, *args, **kwargs)
    lam, ratio, pad = _stock['letterbox'](np.ascontiguousarray(im[..., LAM_HALF]), *args, **kwargs)
    image, _, _ = _stock['letterbox'](np.ascontiguousarray(im[..., IMAGE_HALF]), *args, **kwargs)
    return np.concatenate((lam, image), 2), ratio, pad


def random_perspective(im, targets=(), segments=(), *args, **kwargs):
    """Stock random_perspective, one draw applied to both halves of a pair (border value 114 in all six channels)."""
    if not _is_pair(im):
        return _stock['random_perspective'](im, targets, segments, *args, **kwargs)
    state = random.getstate()
    lam, _ = _stock['random_perspective'](np.ascontiguousarray(im[..., LAM_HALF]), np.copy(targets), list(segments),
                                          *args, **kwargs)
    random.setstate(state)  # the image half replays the very same draw
    image, targets = _stock['random_perspective'](np.ascontiguousarray(im[..., IMAGE_HALF]), targets, segments, *args,
                                                  **kwargs)
    return np.concatenate((lam, image), 2), targets


def augment_hsv(im, *args, **kwargs):
    """Stock HSV jitter on the image only: a LAM is a map, not a photo."""
    if not _is_pair(im):
        return _stock['augment_hsv'](im, *args, **kwargs)
    image = np.ascontiguousarray(im[..., IMAGE_HALF])
    _stock['augment_hsv'](image, *args, **kwargs)
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
    if not os.path.isfile(lam_file):
        return 'missing'
    lam = cv2.imread(lam_file)
    if lam is None:
        return 'corrupt'
    return 'resized' if lam.shape[:2] != (h, w) else None


class PairedImagesAndLabels(dataloaders.LoadImagesAndLabels):
    """YOLOv5's dataset with each image paired with its LAM; same labels, same augmentation draws."""

    lam_folder = 'lams'

    def __init__(self, path, img_size=640, batch_size=16, *args, cache_images=False, prefix='', **kwargs):
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

    def _check_lams(self, prefix):
        lam_files = lam_paths(self.im_files, self.lam_folder)
        with ThreadPool(NUM_THREADS) as pool:
            status = pool.map(_check_lam, zip(lam_files, self.shapes))
        problems = {k: [i for i, s in enumerate(status) if s == k] for k in ('missing', 'corrupt', 'resized')}
        if problems['missing']:
            n, names = len(problems['missing']), [lam_files[i] for i in problems['missing'][:3]]
            root = Path(self.im_files[0]).parents[2] if len(Path(self.im_files[0]).parents) > 2 else '<dataset>'
            raise MissingLAMError(
                f"{n} of {len(lam_files)} images have no LAM, e.g. {', '.join(names)}. Generate them with a trained "
                f'guide YOLOv5: python gen_lam.py --weights <guide.pt> --data <data.yaml>  (LAMs of {root} go to '
                f'{root}/{self.lam_folder}/<split>/<stem>.png)')
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
    def npy_files(self, files):  # --cache disk: pairs get their own files beside RGB-only caches of the same images
        self._npy_files = [Path(f).with_suffix('.pair.npy') for f in files]

    def read_pair(self, i):
        """Read image i and its LAM from disk: (H, W, 6) uint8, [LAM_BGR, IMAGE_BGR]."""
        f, lam_file = self.im_files[i], lam_paths([self.im_files[i]], self.lam_folder)[0]
        im = cv2.imread(f)
        assert im is not None, f'Image Not Found {f}'
        lam = cv2.imread(lam_file)
        assert lam is not None, f'LAM Not Found or corrupt {lam_file}'
        if lam.shape[:2] != im.shape[:2]:
            lam = cv2.resize(lam, im.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        return np.concatenate((lam, im), 2)

    def load_image(self, i):
        if self.ims[i] is not None:
            return self.ims[i], self.im_hw0[i], self.im_hw[i]
        fn = self.npy_files[i]
        im = np.load(fn) if fn.exists() else self.read_pair(i)
        h0, w0 = im.shape[:2]
        r = self.img_size / max(h0, w0)
        if r != 1:  # the stock resize rule; cv2.resize takes six channels
            interp = cv2.INTER_LINEAR if (self.augment or r > 1) else cv2.INTER_AREA
            im = cv2.resize(im, (int(np.ceil(w0 * r)), int(np.ceil(h0 * r))), interpolation=interp)
        return im, (h0, w0), im.shape[:2]

    def cache_images_to_disk(self, i):
        if not self.npy_files[i].exists():
            np.save(self.npy_files[i].as_posix(), self.read_pair(i))

    def check_cache_ram(self, safety_margin=0.1, prefix=''):
        return super().check_cache_ram(1 + 2 * safety_margin, prefix)  # a pair needs twice an image's memory


_pairs = {'enabled': False}


def use_pairs(enabled, lam_folder='lams'):
    """Make ``create_dataloader`` build pair-aware datasets (dual-input models) or stock ones (RGB models)."""
    _pairs['enabled'] = bool(enabled)
    PairedImagesAndLabels.lam_folder = lam_folder or 'lams'


_stock_create_dataloader = dataloaders.create_dataloader


def create_dataloader(*args, **kwargs):
    """Stock ``create_dataloader``; with :func:`use_pairs` on, its dataset is :class:`PairedImagesAndLabels`."""
    if not _pairs['enabled']:
        return _stock_create_dataloader(*args, **kwargs)
    with compat.building_datasets_with(PairedImagesAndLabels):
        return _stock_create_dataloader(*args, **kwargs)


class PairedLoadImages(dataloaders.LoadImages):
    """Stock inference loader that also yields each image's LAM: ``im`` becomes (6, H, W), image then LAM (RGB).

    ``lam_source(path, im0) -> LAM (BGR, im0's size)`` makes or reads the LAM; the LAM is letterboxed with
    the image's own geometry. ``save_dir``: also write each LAM there as <stem>.png (--save-lam).
    """

    def __init__(self, path, *args, lam_source, save_dir=None, **kwargs):
        super().__init__(path, *args, **kwargs)
        self.lam_source, self.save_dir = lam_source, save_dir

    def __next__(self):
        path, im, im0, cap, s = super().__next__()
        lam = self.lam_source(path, im0)
        if lam.shape[:2] != im0.shape[:2]:
            lam = cv2.resize(lam, im0.shape[1::-1], interpolation=cv2.INTER_LINEAR)
        if self.save_dir:
            name = Path(path).stem + (f'_{self.frame}' if self.mode == 'video' else '')
            Path(self.save_dir).mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(Path(self.save_dir) / f'{name}.png'), lam)
        boxed = letterbox(lam, self.img_size, stride=self.stride, auto=self.auto)[0]
        return path, np.concatenate((im, boxed.transpose((2, 0, 1))[::-1]), 0), im0, cap, s


def paired_inference(**kwargs):
    """Within the block, stock detect reads images through :class:`PairedLoadImages` configured by ``kwargs``."""
    return compat.detecting_with_loader(lambda *a, **k: PairedLoadImages(*a, **k, **kwargs))
