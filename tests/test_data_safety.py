"""No input file is ever written: gen_lam.py, train.py and detect.py on every dataset layout YOLOv5 accepts, checked
by checksums of every input file before and after; unsafe layouts stop before writing anything."""
import hashlib
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import yaml
from yolov5.models.yolo import Model

from lagnet_modules.data.images import dataset_images
from lagnet_modules.data.layout import LamLayout
from lagnet_modules.paths import CHECKOUT as ROOT
from lagnet_modules.paths import find_file

TINY = ROOT / 'tests' / 'fixtures' / 'lagnet-tiny.yaml'  # every LAGNet layer type, a few thousand parameters
NAMES = ['scratch', 'patch', 'spot']


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True)


def checksums(root):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob('*')) if p.is_file()}


def image(folder, stem, ext, seed):
    folder.mkdir(parents=True, exist_ok=True)
    im = np.random.default_rng(seed).integers(60, 200, (64, 80, 3), dtype=np.uint8)
    cv2.rectangle(im, (20, 20), (40, 30), (20, 20, 20), -1)
    cv2.imwrite(str(folder / f'{stem}.{ext}'), im)
    return folder / f'{stem}.{ext}'


def label(file, cls=0):
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(f'{cls} 0.375 0.39 0.25 0.16\n')


def tree(ds, ext='jpg'):
    """images/<split> and labels/<split> (YOLOv5's usual layout)."""
    for split in ('train', 'val'):
        for i in range(4):
            image(ds / 'images' / split, f'{split}{i}', ext, i)
            label(ds / 'labels' / split / f'{split}{i}.txt', i % 3)
    return {'train': 'images/train', 'val': 'images/val'}


def flat(ds, ext='png'):
    """Images and their label files side by side, one folder per split (no images/ in the path)."""
    for split in ('train', 'val'):
        for i in range(4):
            image(ds / split, f'{split}{i}', ext, i)
            label(ds / split / f'{split}{i}.txt', i % 3)
    return {'train': 'train', 'val': 'val'}


def lists(ds):
    """*.txt lists of images in one flat pool folder."""
    for i in range(6):
        image(ds / 'pool', f'p{i}', 'png', i)
        label(ds / 'pool' / f'p{i}.txt', i % 3)
    (ds / 'train.txt').write_text(''.join(f'./pool/p{i}.png\n' for i in range(4)))
    (ds / 'val.txt').write_text('./pool/p4.png\n./pool/p5.png\n')
    return {'train': 'train.txt', 'val': 'val.txt'}


def several(ds):
    """Several folders for one split."""
    flat(ds)
    for i in range(2):
        image(ds / 'extra', f'e{i}', 'png', 10 + i)
        label(ds / 'extra' / f'e{i}.txt')
    return {'train': ['train', 'extra'], 'val': 'val'}


LAYOUTS = {'images-labels tree, JPEG': tree, 'flat folders, PNG': flat, '*.txt lists': lists,
           'several folders per split': several}


def dataset(tmp_path, layout, **extra):
    ds = tmp_path / 'ds'
    splits = layout(ds)
    data = tmp_path / 'data.yaml'
    data.write_text(yaml.safe_dump({'path': str(ds), **splits, 'names': NAMES, **extra}))
    return ds, data


@pytest.fixture(scope='module')
def guide(tmp_path_factory):
    f = tmp_path_factory.mktemp('guide') / 'guide.pt'
    torch.save({'model': Model(str(find_file('yolov5n.yaml', 'models')), nc=len(NAMES)).half(), 'epoch': -1}, f)
    return f


def listed(data):
    from yolov5.utils.general import check_dataset
    return dataset_images(check_dataset(str(data)))[0]


@pytest.mark.parametrize('layout', LAYOUTS)
def test_gen_lam_keeps_every_input_and_the_loader_finds_the_lams(tmp_path, guide, layout):
    ds, data = dataset(tmp_path, LAYOUTS[layout])
    before, images = checksums(ds), listed(data)
    r = run('gen_lam.py', '--weights', guide, '--data', data, '--imgsz', 64, '--save-map')
    assert r.returncode == 0, r.stderr[-2000:]
    after = checksums(ds)
    assert all(after.get(p) == h for p, h in before.items())  # every input file byte-identical
    assert listed(data) == images  # no LAM became an image of any split
    layout_rule = LamLayout.from_data({'path': str(ds)})
    for f in images:
        assert layout_rule.path(f).is_file() and layout_rule.path(f, 'map').is_file()


def test_unsafe_layout_stops_before_writing_and_names_the_key(tmp_path, guide):
    ds, data = dataset(tmp_path, flat)
    data.write_text(yaml.safe_dump({'path': str(ds), 'train': 'train', 'val': '.', 'names': NAMES}))  # val scans ds/
    before = checksums(tmp_path)
    r = run('gen_lam.py', '--weights', guide, '--data', data, '--imgsz', 64)
    assert r.returncode != 0 and 'Traceback' not in r.stderr
    assert 'a folder the dataset reads images from. Nothing was written' in r.stderr and '`lams: ' in r.stderr
    assert checksums(tmp_path) == before
    key = r.stderr.split('`lams: ')[1].split('`')[0]  # the fix it names works
    data.write_text(yaml.safe_dump({'path': str(ds), 'train': 'train', 'val': '.', 'names': NAMES, 'lams': key}))
    assert run('gen_lam.py', '--weights', guide, '--data', data, '--imgsz', 64).returncode == 0
    assert all(checksums(ds).get(p) == h for p, h in before.items() if ds in p.parents)
    assert len(list((tmp_path / 'ds-lams').rglob('*.png'))) == 8


def test_gen_lam_source_refuses_an_output_among_its_inputs(tmp_path, guide):
    src = tmp_path / 'src'
    image(src, 'a', 'png', 0)
    image(src / 'sub', 'a', 'png', 1)
    before = checksums(tmp_path)
    for out, needle in ((src / 'lams', 'a folder the dataset reads images from'), (tmp_path / 'out', 'would both be')):
        r = run('gen_lam.py', '--weights', guide, '--source', src, '--out', out, '--imgsz', 64)
        assert r.returncode != 0 and needle in r.stderr and 'Traceback' not in r.stderr
    assert checksums(tmp_path) == before


def truncate(f):
    f.write_bytes(f.read_bytes()[:len(f.read_bytes()) // 2])


def test_flat_png_dataset_unchanged_through_gen_lam_train_and_detect(tmp_path, guide):
    ds, data = dataset(tmp_path, flat)
    before = checksums(ds)
    assert run('gen_lam.py', '--weights', guide, '--data', data, '--imgsz', 64).returncode == 0
    r = run('train.py', '--cfg', TINY, '--data', data, '--epochs', 1, '--imgsz', 64, '--batch-size', 4, '--workers', 0,
            '--project', tmp_path / 'runs', '--name', 'lag')
    assert r.returncode == 0, r.stderr[-3000:]
    r = run('detect.py', '--weights', tmp_path / 'runs' / 'lag' / 'weights' / 'last.pt', '--source', ds / 'val',
            '--guide', guide, '--save-lam', '--imgsz', 64, '--project', tmp_path / 'det')
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(list((tmp_path / 'det' / 'exp' / 'lams').glob('*.png'))) == 4
    after = checksums(ds)
    assert all(after.get(p) == h for p, h in before.items())


def test_truncated_jpeg_is_skipped_never_rewritten(tmp_path, guide):
    ds, data = dataset(tmp_path, tree)
    bad = ds / 'images' / 'train' / 'train1.jpg'
    truncate(bad)
    before = checksums(ds)
    r = run('gen_lam.py', '--weights', guide, '--data', data, '--imgsz', 64)
    assert r.returncode == 0 and '1 unreadable or truncated image(s) skipped' in r.stdout and str(bad) in r.stdout
    assert not (ds / 'lams' / 'train' / 'train1.png').exists()
    r = run('train.py', '--cfg', TINY, '--data', data, '--epochs', 1, '--imgsz', 64, '--batch-size', 4, '--workers', 0,
            '--project', tmp_path / 'runs', '--name', 'lag')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'truncated JPEG' in r.stdout + r.stderr  # named, skipped; stock would re-encode it in place
    after = checksums(ds)
    assert all(after.get(p) == h for p, h in before.items())


def test_detect_refuses_a_run_folder_inside_the_source(tmp_path, guide):
    ds, _ = dataset(tmp_path, flat)
    before = checksums(ds)
    r = run('detect.py', '--weights', guide, '--source', ds / 'val', '--project', ds / 'val', '--imgsz', 64)
    assert r.returncode != 0 and 'is inside --source' in r.stderr and 'Traceback' not in r.stderr
    assert checksums(ds) == before
