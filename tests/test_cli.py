"""End to end through the user's commands on a tiny synthetic set: guide -> LAMs -> LAGNet-s -> resume -> val -> detect.

Asserts on artifacts (checkpoints, tables, images), and that bad input ends with one clear line and a non-zero exit.
"""
import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import yaml

from lagnet_modules.paths import CHECKOUT as ROOT

IMG = '96'


def run(*args, check=True, **kw):
    r = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True, **kw)
    if check:
        assert r.returncode == 0, f'{args}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}'
    return r


def clear_error(r, *needles):
    """One clear message, no traceback, non-zero exit."""
    assert r.returncode != 0
    assert 'Traceback' not in r.stderr, r.stderr[-2000:]
    for n in needles:
        assert n in r.stderr, r.stderr[-2000:]


@pytest.fixture(scope='module')
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('e2e')
    run('data/scripts/make_synthetic.py', '--out', tmp / 'ds', '--n', 16, '--imgsz', IMG)
    data = tmp / 'syn.yaml'
    data.write_text(yaml.safe_dump({'path': str(tmp / 'ds'), 'train': 'images/train', 'val': 'images/val',
                                    'test': 'images/test', 'names': {0: 'scratch', 1: 'patch', 2: 'spot'}}))
    common = ['--data', data, '--imgsz', IMG, '--batch-size', 4, '--workers', 0, '--project', tmp / 'runs']
    run('train.py', '--cfg', 'yolov5n.yaml', '--epochs', 1, '--name', 'guide', *common)
    guide = tmp / 'runs' / 'guide' / 'weights' / 'best.pt'
    run('gen_lam.py', '--weights', guide, '--data', data, '--imgsz', IMG)
    return {'tmp': tmp, 'data': data, 'guide': guide, 'common': common}


STOP_AFTER_FIRST_SAVE = """
import sys
import lagnet_modules
from lagnet_modules.cli import train
from yolov5.utils.callbacks import Callbacks

def stop(*args, **kwargs):  # epoch 0's last.pt is on disk: end the process as an interruption would
    sys.exit(0)

callbacks = Callbacks()
callbacks.register_action('on_model_save', callback=stop)
lagnet_modules.install()
train.run(sys.argv[1:], callbacks=callbacks)
"""


@pytest.fixture(scope='module')
def lagnet(world):
    """LAGNet-s trained for 3 epochs in two sittings: stopped right after its first checkpoint, then --resume'd."""
    run_dir = world['tmp'] / 'runs' / 'lag'
    run('-c', STOP_AFTER_FIRST_SAVE, '--cfg', 'models/lagnet-s.yaml', '--epochs', 3, '--name', 'lag', *world['common'])
    rows_before = len((run_dir / 'results.csv').read_text().splitlines()) - 1
    assert rows_before == 1
    r = run('train.py', '--resume', run_dir / 'weights' / 'last.pt')
    assert 'Resuming training' in r.stdout + r.stderr
    return {'dir': run_dir, 'best': run_dir / 'weights' / 'best.pt', 'rows_before': rows_before}


def test_lams_for_every_image(world):
    for split in ('train', 'val', 'test'):
        images = sorted(p.stem for p in (world['tmp'] / 'ds' / 'images' / split).iterdir())
        assert images == sorted(p.stem for p in (world['tmp'] / 'ds' / 'lams' / split).glob('*.png'))


def test_training_and_resume_artifacts(lagnet):
    d = lagnet['dir']
    assert len((d / 'results.csv').read_text().splitlines()) - 1 == 3  # epochs 0..2 over two processes
    for f in ('results.png', 'train_batch0.jpg', 'opt.yaml', 'hyp.yaml', 'weights/last.pt', 'weights/best.pt'):
        assert (d / f).is_file(), f
    hyp = yaml.safe_load((d / 'hyp.yaml').read_text())
    assert hyp['momentum'] == 0.937 and hyp['mixup'] == 0.1  # the LAGNet recipe by default
    batch = cv2.imread(str(d / 'train_batch0.jpg'))
    assert batch.shape[1] == 2 * batch.shape[0]  # each image is drawn beside its LAM


def test_checkpoint_loads_in_a_fresh_process(lagnet):
    code = ('import lagnet_modules, torch; lagnet_modules.install(); from lagnet_modules.cli.common import '
            'checkpoint_model; m, _ = checkpoint_model(%r); m = m.float().eval(); y = m(torch.zeros(1, 6, 96, 96))[0]; '
            'print(m.yaml["ch"], *y.shape)' % str(lagnet['best']))
    r = run('-c', code)
    assert r.stdout.split() == ['6', '1', str(3 * (12 ** 2 + 6 ** 2 + 3 ** 2)), '8']  # anchors x cells, 5 + 3 classes


def test_val_prints_metrics_for_every_class(world, lagnet):
    r = run('val.py', '--weights', lagnet['best'], '--data', world['data'], '--imgsz', IMG, '--task', 'test',
            '--project', world['tmp'] / 'val')
    out = r.stdout + r.stderr
    names = ['scratch', 'patch', 'spot']
    present = {names[int(line.split()[0])] for f in (world['tmp'] / 'ds' / 'labels' / 'test').glob('*.txt')
               for line in f.read_text().splitlines()}
    for name in ['all', *present]:
        assert any(line.split()[:1] == [name] and len(line.split()) == 7 for line in out.splitlines()
                   if line.strip()), name
    assert 'ms inference' in out and 'parameters' in out
    assert (world['tmp'] / 'val' / 'exp' / 'confusion_matrix.png').is_file()
    metrics = json.loads((world['tmp'] / 'val' / 'exp' / 'metrics.json').read_text())
    assert set(metrics['all']) == {'P', 'R', 'mAP50', 'mAP50-95', 'instances'}
    table = {line.split()[0]: line.split() for line in out.splitlines() if len(line.split()) == 7}
    for name, m in metrics['classes'].items():  # the numbers stock printed, for scripts
        assert int(table[name][2]) == m['instances'] and abs(float(table[name][5]) - m['mAP50']) < 1e-3


def test_detect_makes_lams_on_the_fly_and_draws_boxes(world, lagnet):
    src = world['tmp'] / 'ds' / 'images' / 'test'
    run('detect.py', '--weights', lagnet['best'], '--source', src, '--imgsz', IMG, '--conf-thres', 0.0001,
        '--max-det', 3, '--save-txt', '--save-lam', '--project', world['tmp'] / 'det')
    out = world['tmp'] / 'det' / 'exp'
    for f in sorted(src.iterdir()):
        assert (out / 'lams' / f'{f.stem}.png').is_file()
        drawn, original = cv2.imread(str(out / f.name)), cv2.imread(str(f))
        labels = out / 'labels' / f'{f.stem}.txt'
        if labels.is_file():
            _, x, y, w, h = map(float, labels.read_text().split()[:5])
            H, W = original.shape[:2]
            x1 = int(np.clip((x - w / 2) * W, 0, W - 1))
            y1, y2 = int(np.clip((y - h / 2) * H, 0, H - 1)), int(np.clip((y + h / 2) * H, 0, H - 1))
            assert (drawn[y1:y2 + 1, x1].astype(int) - original[y1:y2 + 1, x1]).any()  # the box's left edge


def test_train_without_data_is_one_clear_error():
    clear_error(run('train.py', '--cfg', 'models/lagnet-s.yaml', check=False), '--data is required')


def test_train_with_missing_lams_is_one_clear_error(world, tmp_path):
    shutil.copytree(world['tmp'] / 'ds', tmp_path / 'ds', ignore=shutil.ignore_patterns('lams', '*.cache'))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({**yaml.safe_load(world['data'].read_text()), 'path': str(tmp_path / 'ds')}))
    r = run('train.py', '--cfg', 'models/lagnet-s.yaml', '--data', data, '--epochs', 1, '--imgsz', IMG, '--workers', 0,
            '--project', tmp_path / 'runs', check=False)
    clear_error(r, 'images have no LAM', 'python gen_lam.py --weights')


def test_rgb_checkpoint_where_lagnet_is_needed(world):
    r = run('detect.py', '--weights', world['guide'], '--source', world['tmp'] / 'ds' / 'images' / 'test',
            '--guide', world['guide'], check=False)
    clear_error(r, 'is an RGB YOLOv5 model', 'need a LAGNet checkpoint')


def test_unreadable_image_in_source(world, lagnet, tmp_path):
    (tmp_path / 'broken.png').write_bytes(b'not an image')
    r = run('detect.py', '--weights', lagnet['best'], '--source', tmp_path / 'broken.png', '--project', tmp_path,
            check=False)
    clear_error(r, 'Image Not Found', 'broken.png')


def test_missing_weights_is_one_clear_error(world):
    r = run('val.py', '--weights', 'nope.pt', '--data', world['data'], check=False)
    clear_error(r, 'nope.pt not found')
