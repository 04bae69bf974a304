"""LAM math (Eq. 1) with controlled head outputs, and gen_lam.py on a dataset with a real (untrained) guide."""
import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import yaml
from yolov5.models.yolo import Model

from lagnet_modules.data.lam import blend, location_map, scale_maps, unblend
from lagnet_modules.paths import CHECKOUT as ROOT, find_file

NC = 3


def heads(logits_per_scale, sizes, na=3):
    """Fake Detect outputs: objectness logit per scale (a number or an (H, W) array), class logits 0."""
    out = []
    for v, (h, w) in zip(logits_per_scale, sizes):
        x = torch.zeros(1, na, h, w, 5 + NC)
        x[..., 4] = torch.as_tensor(v, dtype=torch.float32)
        out.append(x)
    return out


def test_max_over_anchors_then_scales_times_255():
    hs = heads([0.0, 2.0, -1.0], [(8, 8), (4, 4), (2, 2)])
    hs[0][0, 1, 3, 3, 4] = 5.0  # one anchor of one cell of scale 0
    m = location_map(hs, (64, 64), (0, 0), (64, 64), (64, 64))
    expected = 255 * torch.sigmoid(torch.tensor(2.0))
    assert m.shape == (1, 64, 64)
    torch.testing.assert_close(m[0, 0, 0], expected)  # max over scales: scale 1 wins where scale 0 is 0.5
    # pixel 28 samples cell 3.0625 of scale 0 (half-pixel bilinear): 15/16 of the hot cell in each axis
    hot, base, w = 255 * torch.sigmoid(torch.tensor(5.0)), 255 * 0.5, (15 / 16) ** 2
    torch.testing.assert_close(m[0, 28, 28], w * hot + (1 - w) * base)  # > scale 1's 224.6 there: max over scales
    torch.testing.assert_close(scale_maps(hs)[0][0, 3, 3], 255 * torch.sigmoid(torch.tensor(5.0)))


def test_conf_score_multiplies_best_class():
    hs = heads([0.0], [(2, 2)])
    hs[0][..., 5 + 1] = 1.0  # class 1 logit
    conf = scale_maps(hs, 'conf')[0]
    torch.testing.assert_close(conf, torch.full((1, 2, 2), 255 * 0.5 * float(torch.sigmoid(torch.tensor(1.0)))))


def test_letterbox_is_undone_for_a_non_square_image():
    """Image 32x64 (h x w) letterboxed into 64x64 sits at rows 16..48; only its top half is hot."""
    grid = np.full((8, 8), -6.0)
    grid[2:4] = 6.0  # input rows 16..32 = image rows 0..16
    hs = heads([grid, -6.0, -6.0], [(8, 8), (4, 4), (2, 2)])
    m = location_map(hs, (64, 64), (0, 16), (32, 64), (32, 64))[0]
    assert m.shape == (32, 64)
    assert m[2:10].min() > 200 and m[22:].max() < 10  # hot rows stay on the image's top half, padding removed


def test_blend_is_half_image_half_heat():
    im = np.full((4, 6, 3), 200, np.uint8)
    lam = blend(im, np.zeros((4, 6)), 0.5, 0.5, 'jet')
    heat = cv2.applyColorMap(np.zeros((4, 6), np.uint8), cv2.COLORMAP_JET)
    assert np.abs(lam.astype(int) - (0.5 * im + 0.5 * heat)).max() <= 1


def test_gray_lam_is_the_raw_map():
    """--colormap gray --alpha 0 --beta 1 (issue 11, LAM encoding): the map itself in all three channels."""
    m = np.random.default_rng(0).uniform(0, 255, (4, 6))
    lam = blend(np.full((4, 6, 3), 77, np.uint8), m, 0, 1, 'gray')
    assert np.array_equal(lam, np.repeat(np.round(m).astype(np.uint8)[..., None], 3, axis=2))
    heat = blend(np.zeros((1, 256, 3), np.uint8), np.arange(256)[None], 0, 1, 'jet')
    assert np.array_equal(heat, cv2.applyColorMap(np.arange(256, dtype=np.uint8)[None], cv2.COLORMAP_JET))


@pytest.mark.parametrize('encoding', [(0.5, 0.5, 'jet'), (0.3, 0.7, 'gray'), (0.5, 0.5, 'turbo'), (0, 1, 'gray')])
def test_unblend_recovers_the_map_of_a_lam(encoding):
    rng = np.random.default_rng(0)
    im, m = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8), rng.integers(0, 256, (32, 48))
    decoded = unblend(blend(im, m, *encoding), im, *encoding)
    assert decoded.shape == m.shape and np.abs(decoded - m).max() <= 1 and np.mean(decoded == m) > 0.9


@pytest.fixture
def guide(tmp_path):
    model = Model(str(find_file('yolov5n.yaml', 'models')), nc=NC)
    f = tmp_path / 'guide.pt'
    torch.save({'model': model.half(), 'epoch': -1}, f)
    return f


def gen_lam(*args):
    return subprocess.run([sys.executable, 'gen_lam.py', *map(str, args)], cwd=ROOT, capture_output=True, text=True)


def test_gen_lam_writes_one_lam_per_image_with_manifest(tmp_path, guide):
    root = tmp_path / 'ds'
    shapes = {'train': [(40, 60), (64, 64), (40, 60)], 'val': [(30, 50)]}
    for split, ss in shapes.items():
        (root / 'images' / split).mkdir(parents=True)
        for i, (h, w) in enumerate(ss):
            cv2.imwrite(str(root / 'images' / split / f'a{i}.jpg'), np.full((h, w, 3), 90, np.uint8))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({'path': str(root), 'train': 'images/train', 'val': 'images/val',
                                    'test': 'images/val', 'names': ['x', 'y', 'z']}))
    r = gen_lam('--weights', guide, '--data', data, '--imgsz', 64, '--batch', 2, '--save-map')
    assert r.returncode == 0, r.stderr
    for split, ss in shapes.items():
        lams = sorted((root / 'lams' / split).glob('*.png'))
        assert [p.stem for p in lams] == [f'a{i}' for i in range(len(ss))]
        for p, (h, w) in zip(lams, ss):
            assert cv2.imread(str(p)).shape == (h, w, 3)
            assert cv2.imread(str(root / 'lams_maps' / split / p.name), cv2.IMREAD_UNCHANGED).shape == (h, w)
    manifest = json.loads((root / 'lams' / 'manifest.json').read_text())
    assert manifest['alpha'] == 0.5 and manifest['beta'] == 0.5 and manifest['colormap'] == 'jet'
    assert manifest['score'] == 'obj' and len(manifest['guide_sha256']) == 64 and manifest['images'] == 4


def test_gen_lam_rejects_guide_with_other_class_count(tmp_path, guide):
    (tmp_path / 'images' / 'train').mkdir(parents=True)
    cv2.imwrite(str(tmp_path / 'images' / 'train' / 'a.jpg'), np.zeros((32, 32, 3), np.uint8))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({'path': str(tmp_path), 'train': 'images/train', 'val': 'images/train',
                                    'names': ['a', 'b']}))
    r = gen_lam('--weights', guide, '--data', data, '--imgsz', 64)
    assert r.returncode != 0 and 'detects 3 classes but' in r.stderr and 'Traceback' not in r.stderr


def test_gen_lam_data_with_out_is_one_clear_error_not_ignored(tmp_path, guide):
    (tmp_path / 'images' / 'train').mkdir(parents=True)
    cv2.imwrite(str(tmp_path / 'images' / 'train' / 'a.jpg'), np.zeros((32, 32, 3), np.uint8))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({'path': str(tmp_path), 'train': 'images/train', 'val': 'images/train',
                                    'names': ['x', 'y', 'z']}))
    r = gen_lam('--weights', guide, '--data', data, '--out', tmp_path / 'elsewhere', '--imgsz', 64)
    assert r.returncode != 0 and f'lams: {tmp_path / "elsewhere"}' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'lams').exists() and not (tmp_path / 'elsewhere').exists()


def test_gen_lam_missing_guide_is_one_clear_error(tmp_path):
    (tmp_path / 'src').mkdir()
    cv2.imwrite(str(tmp_path / 'src' / 'a.png'), np.zeros((32, 32, 3), np.uint8))
    r = gen_lam('--weights', tmp_path / 'nope.pt', '--source', tmp_path / 'src', '--out', tmp_path / 'lams')
    assert r.returncode != 0 and 'nope.pt not found' in r.stderr and 'Traceback' not in r.stderr


def test_gen_lam_blank_writes_each_image_itself_without_a_guide(tmp_path, guide):
    """--blank (the blank twin's LAMs): pixel-exact copies of the images, what --alpha 1 --beta 0 gives with any
    guide, and no guide needed; with --weights it is one clear error."""
    rng = np.random.default_rng(0)
    (tmp_path / 'src').mkdir()
    images = {f'a{i}': rng.integers(0, 256, (24 + 8 * i, 40, 3), dtype=np.uint8) for i in range(3)}
    for stem, im in images.items():
        cv2.imwrite(str(tmp_path / 'src' / f'{stem}.png'), im)
    r = gen_lam('--blank', '--source', tmp_path / 'src', '--out', tmp_path / 'blank')
    assert r.returncode == 0, r.stderr
    r = gen_lam('--weights', guide, '--alpha', 1, '--beta', 0, '--imgsz', 64, '--source', tmp_path / 'src',
                '--out', tmp_path / 'guided')
    assert r.returncode == 0, r.stderr
    for stem, im in images.items():
        assert np.array_equal(cv2.imread(str(tmp_path / 'blank' / f'{stem}.png')), im)
        assert np.array_equal(cv2.imread(str(tmp_path / 'guided' / f'{stem}.png')), im)
    manifest = json.loads((tmp_path / 'blank' / 'manifest.json').read_text())
    assert manifest['blank'] is True and manifest['guide'] is None and (manifest['alpha'], manifest['beta']) == (1, 0)
    r = gen_lam('--blank', '--weights', guide, '--source', tmp_path / 'src', '--out', tmp_path / 'both')
    assert r.returncode != 0 and 'need no guide' in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'both').exists()


@pytest.mark.parametrize('recipe', [(0.0, 1.0, 'gray'), (0.3, 0.7, 'turbo')])
def test_detect_blends_like_the_lams_the_model_trained_on(guide, monkeypatch, recipe):
    """detect.py's on-the-fly LAMs follow the training LAMs' manifest (a model trained on grey maps reads grey maps),
    also when --guide names the guide; a model trained on blank LAMs gets the image itself, no guide needed."""
    from lagnet_modules.cli import common, detect
    from lagnet_modules.data.lam import LAMGenerator
    alpha, beta, colormap = recipe
    manifest = {'guide': str(guide), 'imgsz': 64, 'alpha': alpha, 'beta': beta, 'colormap': colormap, 'score': 'obj'}
    monkeypatch.setattr(common, 'lam_manifest', lambda ckpt: manifest)
    im = np.random.default_rng(0).integers(0, 256, (40, 48, 3), dtype=np.uint8)
    expected = LAMGenerator(guide, 64, 'cpu', alpha, beta, colormap)([im])[0][0]
    for args in ([], ['--guide', str(guide)]):
        lam = detect.lam_source(detect.EXTRA.parse_args(args), {}, 64, 'cpu')('a.png', im)
        assert np.array_equal(lam, expected), args
    monkeypatch.setattr(common, 'lam_manifest', lambda ckpt: {'guide': None, 'blank': True, 'alpha': 1.0, 'beta': 0.0})
    assert np.array_equal(detect.lam_source(detect.EXTRA.parse_args([]), {}, 64, 'cpu')('a.png', im), im)


def test_detect_and_export_name_the_recorded_guide_when_it_is_gone(tmp_path, guide):
    """A LAGNet whose training LAMs' guide was moved: the error names that file, not just 'pass --guide'."""
    from lagnet_modules.cli import common
    gone = tmp_path / 'moved' / 'best.pt'
    with pytest.raises(common.UsageError, match=f'the guide its training LAMs record, {gone}, is gone.*--guide'):
        common.guide_for({'guide': str(gone)}, None, 'a LAGNet model needs each image\'s LAM')
    with pytest.raises(common.UsageError, match='no guide is recorded'):
        common.guide_for({}, None, 'a LAGNet model exports with its guide inside')
    assert common.guide_for({'guide': str(gone)}, str(guide), '') == str(guide)
    assert common.guide_for({'guide': str(guide)}, None, '') == str(guide)


@pytest.mark.parametrize('recipe', [{}, {'alpha': 0.0, 'beta': 1.0, 'colormap': 'gray', 'score': 'conf'}])
def test_the_remake_command_val_prints_makes_lams_like_the_manifest(recipe):
    """val.py's hint for stale LAMs: gen_lam.py's own parser reads it back to the recorded guide, size and blend."""
    import shlex
    from lagnet_modules.cli import common, gen_lam
    manifest = {'guide': 'runs/train/g/weights/best.pt', 'guide_sha256': 'ab' * 32, 'imgsz': 128, 'alpha': 0.5,
                'beta': 0.5, 'colormap': 'jet', 'score': 'obj', **recipe}
    opt = gen_lam.parse_opt(shlex.split(common.gen_lam_command(manifest, 'neu.yaml'))[2:])
    assert (opt.weights, opt.data, opt.imgsz) == (manifest['guide'], 'neu.yaml', 128)
    assert {k: getattr(opt, k) for k in ('alpha', 'beta', 'colormap', 'score')} == \
        {k: manifest[k] for k in ('alpha', 'beta', 'colormap', 'score')}
    assert not common.lams_differ(manifest, {**manifest, 'images': 7, 'guide': 'moved/best.pt'})
    assert common.lams_differ(manifest, {**manifest, 'imgsz': 64}) and not common.lams_differ({}, manifest)
