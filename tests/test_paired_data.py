"""Pair-aware loader: pixel-exact RGB/LAM alignment through every augmentation, stock labels, LAM errors."""
import json
import random
import shutil

import cv2
import numpy as np
import pytest
import torch
import yolov5.utils.dataloaders as dataloaders
from yolov5.utils.dataloaders import LoadImagesAndLabels, create_dataloader

from lagnet_modules.data.lam import blend
from lagnet_modules.data.layout import LamLayout
from lagnet_modules.data.pairs import MissingLAMError, PairedImagesAndLabels, PairSpec, building_pairs

HYP_ALL_GEOMETRY = dict(hsv_h=0.0, hsv_s=0.0, hsv_v=0.0, degrees=15.0, translate=0.2, scale=0.5, shear=5.0,
                        perspective=0.0005, flipud=0.5, fliplr=0.5, mosaic=1.0, mixup=0.5, copy_paste=0.0)
SHAPES = [(96, 128), (128, 80), (100, 100), (64, 128), (120, 90), (128, 128), (77, 101), (90, 64)]


def make_dataset(root, lam_copy=True, n=len(SHAPES)):
    """Tiny YOLO dataset of non-square images; with lam_copy each LAM is an exact copy of its image."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val'):
        for d in ('images', 'labels', 'lams'):
            (root / d / split).mkdir(parents=True, exist_ok=True)
        for i, (h, w) in enumerate(SHAPES[:n]):
            im = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            cv2.imwrite(str(root / 'images' / split / f'im{i}.png'), im)
            lam = im if lam_copy else rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
            cv2.imwrite(str(root / 'lams' / split / f'im{i}.png'), lam)
            (root / 'labels' / split / f'im{i}.txt').write_text(
                f'{i % 3} 0.5 0.5 0.3 0.4\n{(i + 1) % 3} 0.3 0.6 0.1 0.2\n')
    return root


@pytest.fixture
def dataset_root(tmp_path):
    return make_dataset(tmp_path / 'ds')


def seeded(seed, fn):
    random.seed(seed)
    np.random.seed(seed)
    return fn()


def test_lam_path_rule():
    assert LamLayout().paths(['/d/images/x/images/train/a.jpg']) == ['/d/images/x/lams/train/a.png']
    assert LamLayout('lams_v2').paths(['/d/images/train/a.jpg']) == ['/d/lams_v2/train/a.png']
    assert LamLayout().paths(['/d/train/a.jpg']) == ['/d/lams/train/a.png']  # flat: a sibling folder
    assert LamLayout('/x/l', '/d').paths(['/d/train/a.jpg']) == ['/x/l/train/a.png']  # a lams: path


def test_train_augmentations_keep_pairs_aligned(dataset_root):
    ds = PairedImagesAndLabels(str(dataset_root / 'images' / 'train'), 128, 4, augment=True,
                               hyp=HYP_ALL_GEOMETRY, rect=False)
    for seed in range(40):
        for i in range(len(ds)):
            x, labels, _, _ = seeded(seed * 100 + i, lambda: ds[i])
            assert x.shape == (6, 128, 128)
            assert torch.equal(x[:3], x[3:]), f'seed {seed} image {i}: RGB and LAM differ'


def test_mosaic9_keeps_pairs_aligned(dataset_root):
    ds = PairedImagesAndLabels(str(dataset_root / 'images' / 'train'), 128, 4, augment=True, hyp=HYP_ALL_GEOMETRY)
    for seed in range(10):
        im, _ = seeded(seed, lambda: ds.load_mosaic9(seed % len(ds)))
        assert dataloaders.letterbox.__module__ == 'yolov5.utils.augmentations'  # stock again after the call
        assert im.shape[2] == 6 and np.array_equal(im[..., :3], im[..., 3:])


def test_val_rect_keeps_pairs_aligned_and_pads_114(dataset_root):
    ds = PairedImagesAndLabels(str(dataset_root / 'images' / 'val'), 128, 4, augment=False, rect=True, pad=0.5)
    padded = 0
    for i in range(len(ds)):
        x = ds[i][0]
        assert torch.equal(x[:3], x[3:])
        padded += int((x == 114).all(0).sum())
    assert padded > 0  # letterbox borders are 114 in all six channels


def test_same_labels_and_image_as_stock_loader(dataset_root):
    """With the same seed the pair loader yields the stock loader's labels, and its image half is the stock image."""
    hyp = dict(HYP_ALL_GEOMETRY, hsv_h=0.015, hsv_s=0.7, hsv_v=0.4)  # HSV on: it draws from np.random in both
    path = str(dataset_root / 'images' / 'train')
    pair = PairedImagesAndLabels(path, 128, 4, augment=True, hyp=hyp)
    stock = LoadImagesAndLabels(path, 128, 4, augment=True, hyp=hyp)
    for seed in range(10):
        for i in range(len(pair)):
            xp, lp, fp, _ = seeded(seed * 100 + i, lambda: pair[i])
            xs, ls, fs, _ = seeded(seed * 100 + i, lambda: stock[i])
            assert fp == fs and torch.equal(lp, ls)
            assert torch.equal(xp[:3], xs)


def test_hsv_touches_the_image_only(tmp_path):
    root = make_dataset(tmp_path / 'ds', lam_copy=False)
    hyp = dict(HYP_ALL_GEOMETRY, hsv_h=0.5, hsv_s=0.9, hsv_v=0.9, mosaic=0.0, mixup=0.0, degrees=0, translate=0,
               scale=0, shear=0, perspective=0, flipud=0, fliplr=0)
    ds = PairedImagesAndLabels(str(root / 'images' / 'train'), 128, 4, augment=True, hyp=hyp)
    plain = PairedImagesAndLabels(str(root / 'images' / 'train'), 128, 4, augment=False)
    x, y = seeded(1, lambda: ds[0])[0], plain[0][0]
    assert torch.equal(x[3:], y[3:]) and not torch.equal(x[:3], y[:3])


@pytest.mark.parametrize('cache', ['ram', 'disk'])
def test_cache_modes_keep_pairs_and_never_collide_with_rgb(dataset_root, cache):
    path = str(dataset_root / 'images' / 'val')
    rgb = LoadImagesAndLabels(path, 128, 4, cache_images=cache)
    ds = PairedImagesAndLabels(path, 128, 4, cache_images=cache)
    for i in range(len(ds)):
        x = ds[i][0]
        assert x.shape[0] == 6 and torch.equal(x[:3], x[3:]) and torch.equal(x[:3], rgb[i][0])
    if cache == 'disk':
        assert sorted(p.name for p in (dataset_root / 'lams' / 'val').glob('*.pair.npy'))
        assert all(np.load(f).shape[2] == 3 for f in rgb.npy_files)


def test_missing_lams_fail_with_count_and_command(dataset_root):
    for f in list((dataset_root / 'lams' / 'train').glob('im[0-2].png')):
        f.unlink()
    with pytest.raises(MissingLAMError, match=r'3 of 8 images have no LAM.*python gen_lam.py --weights'):
        PairedImagesAndLabels(str(dataset_root / 'images' / 'train'), 128, 4)


def test_corrupt_lam_is_skipped_and_resized_lam_is_used(dataset_root):
    (dataset_root / 'lams' / 'train' / 'im1.png').write_bytes(b'not a png')
    lam = cv2.imread(str(dataset_root / 'lams' / 'train' / 'im2.png'))
    cv2.imwrite(str(dataset_root / 'lams' / 'train' / 'im2.png'), cv2.resize(lam, (50, 40)))
    ds = PairedImagesAndLabels(str(dataset_root / 'images' / 'train'), 128, 4)
    names = [p.split('/')[-1] for p in ds.im_files]
    assert len(ds) == 7 and 'im1.png' not in names
    pair = ds.read_pair(names.index('im2.png'))
    image = cv2.imread(str(dataset_root / 'images' / 'train' / 'im2.png'))
    small = cv2.imread(str(dataset_root / 'lams' / 'train' / 'im2.png'))
    assert np.array_equal(pair[..., 3:], image)  # the image untouched
    assert np.array_equal(pair[..., :3], cv2.resize(small, image.shape[1::-1], interpolation=cv2.INTER_LINEAR))


def test_stock_create_dataloader_builds_what_the_spec_says(dataset_root):
    path = str(dataset_root / 'images' / 'val')
    with building_pairs(PairSpec.of(3)):
        loader, ds = create_dataloader(path, 128, 2, 32, workers=0)
    assert type(ds) is LoadImagesAndLabels and next(iter(loader))[0].shape[1] == 3
    with building_pairs(PairSpec.of(6, {'path': str(dataset_root)})):
        loader, ds = create_dataloader(path, 128, 2, 32, workers=0)
    assert type(ds) is PairedImagesAndLabels and next(iter(loader))[0].shape[1] == 6
    assert dataloaders.LoadImagesAndLabels is LoadImagesAndLabels  # the module's own name is stock again
    assert dataloaders.letterbox.__module__ == 'yolov5.utils.augmentations'
    shutil.rmtree(dataset_root)


def test_pairs_follow_a_renamed_lam_folder(dataset_root):
    (dataset_root / 'lams').rename(dataset_root / 'lams_v2')
    spec = PairSpec.of(6, {'path': str(dataset_root), 'lams': 'lams_v2'})
    ds = PairedImagesAndLabels(str(dataset_root / 'images' / 'val'), 128, 4, spec=spec)
    assert ds.lam_file(0).endswith('/lams_v2/val/im0.png') and torch.equal(ds[0][0][:3], ds[0][0][3:])


def test_disk_cache_lives_beside_the_lams_not_the_images(dataset_root):
    PairedImagesAndLabels(str(dataset_root / 'images' / 'val'), 128, 4, cache_images='disk')
    assert not list((dataset_root / 'images').rglob('*.npy'))
    assert len(list((dataset_root / 'lams' / 'val').glob('*.pair.npy'))) == len(SHAPES)


def test_validation_downscale_keeps_pairs_aligned_and_matches_stock(dataset_root):
    """Images larger than img_size shrink with INTER_AREA when not augmenting (OpenCV's takes <= 4 channels)."""
    path = str(dataset_root / 'images' / 'val')
    pair = PairedImagesAndLabels(path, 64, 4, augment=False)
    stock = LoadImagesAndLabels(path, 64, 4, augment=False)
    for i in range(len(pair)):
        x = pair[i][0]
        assert torch.equal(x[:3], x[3:]) and torch.equal(x[:3], stock[i][0])


NO_AUGMENT = dict(HYP_ALL_GEOMETRY, mosaic=0.0, mixup=0.0, degrees=0, translate=0, scale=0, shear=0, perspective=0,
                  flipud=0, fliplr=0)


@pytest.mark.parametrize('cache', [False, 'ram'])
def test_lam_dropout_blanks_whole_lams_in_training_only_and_never_the_cache(tmp_path, cache):
    root = make_dataset(tmp_path / 'ds', lam_copy=False)
    path = str(root / 'images' / 'train')
    plain = PairedImagesAndLabels(path, 128, 4, augment=False)
    always = PairedImagesAndLabels(path, 128, 4, augment=True, hyp=dict(NO_AUGMENT, lam_dropout=1.0),
                                   cache_images=cache)
    for i in range(len(always)):
        x, y = always[i][0], plain[i][0]
        assert torch.equal(x[:3], y[:3]) and torch.equal(x[3:], x[:3])  # the LAM is the image itself
        if cache:
            assert not np.array_equal(always.ims[i][..., :3], always.ims[i][..., 3:])  # cache keeps the real LAM
    val = PairedImagesAndLabels(path, 128, 4, augment=False, hyp=dict(NO_AUGMENT, lam_dropout=1.0))
    assert all(torch.equal(val[i][0], plain[i][0]) for i in range(len(val)))  # validation always reads the LAM
    half = PairedImagesAndLabels(path, 128, 4, augment=True, hyp=dict(NO_AUGMENT, mosaic=1.0, lam_dropout=0.5))
    random.seed(0)
    blanked = [half.load_image(i % len(half))[0] for i in range(200)]
    share = np.mean([np.array_equal(im[..., :3], im[..., 3:]) for im in blanked])
    assert 0.35 < share < 0.65


@pytest.mark.parametrize('manifest', [None, {'alpha': 0.3, 'beta': 0.7, 'colormap': 'gray'}])
def test_lam_miss_erases_the_map_around_missed_boxes_only(tmp_path, manifest):
    root = make_dataset(tmp_path / 'ds')
    encoding = manifest or {'alpha': 0.5, 'beta': 0.5, 'colormap': 'jet'}
    if manifest:
        (root / 'lams' / 'manifest.json').write_text(json.dumps(manifest))
    for f in (root / 'images' / 'train').iterdir():  # LAMs of a map at 40 (the guide's floor) with a blob at 200
        im = cv2.imread(str(f))
        level = np.full(im.shape[:2], 40.0)
        level[im.shape[0] // 4:-im.shape[0] // 4, im.shape[1] // 4:-im.shape[1] // 4] = 200  # the boxes' centres
        cv2.imwrite(str(root / 'lams' / 'train' / f.name), blend(im, level, **encoding))
    path = str(root / 'images' / 'train')
    plain = PairedImagesAndLabels(path, 128, 4, augment=False)
    always = PairedImagesAndLabels(path, 128, 4, augment=True, hyp=dict(NO_AUGMENT, lam_miss=1.0), cache_images='ram')
    for i in range(len(always)):
        im, _, (h, w) = always.load_image(i)
        real = plain.load_image(i)[0]
        assert np.array_equal(im[..., 3:], real[..., 3:]) and np.array_equal(always.ims[i], real)  # image, cache
        erased = np.zeros((h, w), bool)
        for x, y, bw, bh in ((0.5, 0.5, 0.3, 0.4), (0.3, 0.6, 0.1, 0.2)):  # make_dataset's boxes, 1.5x each side
            erased[max(0, round((y - 0.75 * bh) * h)):round((y + 0.75 * bh) * h),
                   max(0, round((x - 0.75 * bw) * w)):round((x + 0.75 * bw) * w)] = True
        assert np.array_equal(im[~erased, :3], real[~erased, :3])  # the map is kept outside the missed boxes
        floor = blend(np.ascontiguousarray(real[..., 3:]), np.full((h, w), 40.0), **encoding)  # Eq. 1, M = floor
        assert np.abs(im[erased, :3].astype(int) - floor[erased]).max() <= 1  # uint8 rounding of the decoded floor
        assert not np.array_equal(real[erased, :3], floor[erased])  # the boxes had guidance to erase
    val = PairedImagesAndLabels(path, 128, 4, augment=False, hyp=dict(NO_AUGMENT, lam_miss=1.0))
    assert all(torch.equal(val[i][0], plain[i][0]) for i in range(len(val)))  # validation always reads the LAM
    half = PairedImagesAndLabels(path, 128, 4, augment=True, hyp=dict(NO_AUGMENT, lam_miss=0.5))
    random.seed(0)
    kept = [np.array_equal(half.load_image(i % len(half))[0], plain.load_image(i % len(half))[0]) for i in range(400)]
    assert 0.15 < np.mean(kept) < 0.35  # both boxes kept: 0.5 ** 2


@pytest.mark.parametrize('key', ['lam_dropout', 'lam_miss'])
def test_lam_hyps_at_zero_keep_the_papers_augmentation_stream(dataset_root, key):
    path = str(dataset_root / 'images' / 'train')
    hyp = dict(HYP_ALL_GEOMETRY, hsv_h=0.015, hsv_s=0.7, hsv_v=0.4)
    a = PairedImagesAndLabels(path, 128, 4, augment=True, hyp=hyp)
    b = PairedImagesAndLabels(path, 128, 4, augment=True, hyp={**hyp, key: 0.0})
    for i in range(len(a)):
        xa, la, _, _ = seeded(i, lambda: a[i])
        xb, lb, _, _ = seeded(i, lambda: b[i])
        assert torch.equal(xa, xb) and torch.equal(la, lb)


@pytest.mark.parametrize('key', ['lam_dropout', 'lam_miss'])
def test_lam_hyps_outside_0_1_fail_with_one_line(dataset_root, key):
    with pytest.raises(ValueError, match=f'{key}: 1.5 is not a probability'):
        PairedImagesAndLabels(str(dataset_root / 'images' / 'train'), 128, 4, augment=True,
                              hyp={**NO_AUGMENT, key: 1.5})
