"""End to end through the user's commands on a tiny synthetic set: guide -> LAMs -> LAGNet-s -> resume -> val -> detect.

Asserts on artifacts (checkpoints, tables, images), and that bad input ends with one clear line and a non-zero exit.
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

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


def test_val_warns_when_the_lams_are_not_those_the_model_trained_on(world, lagnet, tmp_path):
    """The checkpoint records its training LAMs' manifest; validating on another guide's (or blank) LAMs, e.g. a LAM
    folder remade since, says so and gives the command that remakes the LAMs it trained on."""
    from lagnet_modules.cli import common
    from lagnet_modules.data.lam import sha256
    recorded = common.checkpoint_model(lagnet['best'])[1]['opt']['lam_manifest']
    assert recorded['guide_sha256'] == sha256(world['guide']) and recorded['alpha'] == 0.5
    args = ('--weights', lagnet['best'], '--imgsz', IMG, '--task', 'test', '--project', tmp_path)
    r = run('val.py', '--data', world['data'], *args)
    assert 'was trained on' not in ' '.join(r.stdout.split() + r.stderr.split())
    other = tmp_path / 'blank.yaml'
    other.write_text(yaml.safe_dump({**yaml.safe_load(world['data'].read_text()), 'lams': str(tmp_path / 'blank')}))
    run('gen_lam.py', '--blank', '--data', other)
    out = ' '.join((r := run('val.py', '--data', other, *args)).stdout.split() + r.stderr.split())
    assert f"was trained on LAMs from guide {recorded['guide']}" in out and 'the LAMs here are blank LAMs' in out
    assert f"remake them: python gen_lam.py --weights {recorded['guide']} --data {other} --imgsz {IMG}" in out


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


def test_train_with_backbone_weights_file(world, tmp_path):
    import torch
    import torchvision
    torch.save(torchvision.models.mobilenet_v3_small(weights=None).state_dict(), tmp_path / 'small.pth')
    r = run('train.py', '--cfg', 'models/lagnet-s.yaml', '--epochs', 1, '--name', 'bb', '--backbone-weights',
            tmp_path / 'small.pth', *world['common'])
    assert f"Loaded 480 MobileNetV3 tensors from {tmp_path / 'small.pth'} into both branches" in r.stdout + r.stderr


def test_train_with_the_guide_as_backbone_weights(world):
    r = run('train.py', '--cfg', 'models/dual-cspdarknet-lgb-scem-n.yaml', '--epochs', 1, '--name', 'gb',
            '--backbone-weights', world['guide'], *world['common'])
    assert f"Loaded 396 YOLOv5 backbone tensors from {world['guide']} into both branches" in r.stdout + r.stderr
    clear_error(run('train.py', '--cfg', 'models/lagnet-s.yaml', '--epochs', 1, '--name', 'gb-bad', '--backbone-weights',
                    world['guide'], *world['common'], check=False), 'is not the YOLOv5 backbone')


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


def test_guided_lam_is_gen_lams_lam(world):
    """The LAM computed inside the guided model equals gen_lam.py's for the same letterboxed input: exactly in
    the image (up to one uint8 step where the blend rounds a tie), not in the letterbox padding (grey in gen_lam's)."""
    import torch

    from lagnet_modules.cli.common import checkpoint_model
    from lagnet_modules.data.pairs import letterbox, stack_pair, to_network
    from lagnet_modules.guided import GuidedLAGNet
    guide = checkpoint_model(world['guide'])[0]
    guided = GuidedLAGNet(guide, checkpoint_model(world['guide'])[0]).eval()  # the LAGNet part is not used here
    for f in sorted((world['tmp'] / 'ds' / 'images' / 'test').iterdir())[:4]:
        im = cv2.imread(str(f))  # 96 x 96, the guide's size: no resampling on either path
        lam_file = cv2.imread(str(world['tmp'] / 'ds' / 'lams' / 'test' / f'{f.stem}.png'))
        x = torch.from_numpy(to_network(letterbox(stack_pair(im, lam_file), int(IMG), auto=False)[0]))[None]
        x = x.float() / 255
        diff = (guided.lam(x[:, :3]) * 255 - x[:, 3:] * 255).abs()
        assert diff.max() <= 1.0 + 1e-4 and diff.mean() < 0.05, (f, diff.max(), diff.mean())
        # padded as val.py pads: grey 114 in both; the guide's map over the padding must not leak into the LAM
        x = torch.from_numpy(to_network(letterbox(stack_pair(im, lam_file), 128, auto=False, scaleup=False)[0]))
        x = x[None].float() / 255
        pad = guided.letterbox_padding(x[:, :3])[0, 0]
        assert int(pad.sum()) == 128 * 128 - 96 * 96
        assert torch.equal(guided.lam(x[:, :3])[0][:, pad], x[0, 3:][:, pad])


def test_guided_model_runs_in_half_precision(world, lagnet):
    """export.py --half, and val.py / detect.py --half, run the guided model in FP16 (on the GPU machine the
    TorchScript export failed: the guide was handed a float32 image); its LAM stays gen_lam.py's within a step."""
    import torch

    from lagnet_modules.cli.common import checkpoint_model
    from lagnet_modules.guided import GuidedLAGNet
    guided = GuidedLAGNet(checkpoint_model(world['guide'])[0], checkpoint_model(lagnet['best'])[0].float()).eval()
    x = torch.rand(2, 3, int(IMG), int(IMG))
    lam = guided.lam(x)
    guided.half()
    y = guided(x.half())[0]
    assert y.dtype == torch.float16 and torch.isfinite(y).all()
    assert (guided.lam(x.half()) - lam).abs().mean() < 0.5 / 255


def test_a_failed_export_is_an_error(lagnet, tmp_path, monkeypatch):
    """Stock export logs "export failure" and returns normally: on the GPU machine export.py --half exited 0 with
    nothing written."""
    import yolov5.export

    from lagnet_modules.cli import export
    monkeypatch.setattr(yolov5.export, 'export_torchscript', lambda *args, **kwargs: (None, None))  # stock's failure
    weights = tmp_path / 'lag.pt'
    shutil.copy(lagnet['best'], weights)
    with pytest.raises(SystemExit, match=r'lag-guided.pt: torchscript export failed; the "export failure" line'):
        export.main(['--weights', weights, '--include', 'torchscript', '--imgsz', IMG])


def test_export_onnx_runs_through_stock_val_and_detect_without_lams(world, lagnet, tmp_path):
    import onnx
    import onnxruntime
    import torch

    from lagnet_modules.cli.common import checkpoint_model
    weights = tmp_path / 'lag.pt'
    shutil.copy(lagnet['best'], weights)
    run('export.py', '--weights', weights, '--include', 'onnx', '--imgsz', IMG)
    f = tmp_path / 'lag-guided.onnx'
    assert f.is_file() and (tmp_path / 'lag-guided.pt').is_file() and not list(tmp_path.glob('*.data'))
    graph = onnx.load(str(f)).graph
    assert [(i.name, [d.dim_value for d in i.type.tensor_type.shape.dim]) for i in graph.input] == \
        [('images', [1, 3, int(IMG), int(IMG)])]
    x = torch.rand(1, 3, int(IMG), int(IMG))
    expected = checkpoint_model(tmp_path / 'lag-guided.pt')[0].float().fuse().eval()(x)[0]
    got = onnxruntime.InferenceSession(str(f)).run(None, {'images': x.numpy()})[0]
    # float32 on both sides; a LAM pixel whose blend lands on a rounding tie may differ by one uint8 step
    torch.testing.assert_close(torch.from_numpy(got), expected, atol=2e-3, rtol=2e-3)
    bare = tmp_path / 'ds'  # the dataset without any LAM: the exported model makes its own
    shutil.copytree(world['tmp'] / 'ds', bare, ignore=shutil.ignore_patterns('lams', '*.cache'))
    data = tmp_path / 'bare.yaml'
    data.write_text(yaml.safe_dump({**yaml.safe_load(world['data'].read_text()), 'path': str(bare)}))
    run('val.py', '--weights', f, '--data', data, '--imgsz', IMG, '--task', 'test', '--project', tmp_path / 'val')
    assert json.loads((tmp_path / 'val' / 'exp' / 'metrics.json').read_text())['all']['instances'] > 0
    run('detect.py', '--weights', f, '--source', bare / 'images' / 'test', '--imgsz', IMG, '--project', tmp_path / 'det')
    assert len(list((tmp_path / 'det' / 'exp').glob('*.png'))) == len(list((bare / 'images' / 'test').iterdir()))


def test_out_of_fold_lams(world, tmp_path):
    """--folds 2: each training image's LAM comes from the guide that did not train on it; the others' LAMs from
    the mean of both guides' maps."""
    from lagnet_modules.data.lam import LAMGenerator, blend
    shutil.copytree(world['tmp'] / 'ds', tmp_path / 'ds', ignore=shutil.ignore_patterns('lams', '*.cache'))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({**yaml.safe_load(world['data'].read_text()), 'path': str(tmp_path / 'ds')}))
    run('gen_lam.py', '--data', data, '--folds', 2, '--guide-cfg', 'yolov5n.yaml', '--guide-epochs', 1, '--imgsz', IMG,
        '--project', tmp_path / 'folds', '--train-args', '--imgsz', IMG, '--batch-size', 4, '--workers', 0)
    manifest = json.loads((tmp_path / 'ds' / 'lams' / 'manifest.json').read_text())
    assert manifest['folds'] == 2 and len(manifest['guides']) == 2 and manifest['guide'] is None
    guides = [LAMGenerator(g, int(IMG)) for g in manifest['guides']]
    folds = [set((p.parents[2] / 'train.txt').read_text().split()) for p in map(Path, manifest['guides'])]
    train = sorted((tmp_path / 'ds' / 'images' / 'train').iterdir())
    for f in train:
        trained_on = [str(f.resolve()) in fold for fold in folds]
        assert sum(trained_on) == 1  # exactly one guide saw it ...
        lam, _ = guides[trained_on.index(False)]([cv2.imread(str(f))])  # ... the other one makes its LAM
        assert np.array_equal(cv2.imread(str(tmp_path / 'ds' / 'lams' / 'train' / f'{f.stem}.png')), lam[0])
    f = sorted((tmp_path / 'ds' / 'images' / 'test').iterdir())[0]
    im = cv2.imread(str(f))
    mean = (guides[0].maps([im])[0] + guides[1].maps([im])[0]) / 2
    assert np.array_equal(cv2.imread(str(tmp_path / 'ds' / 'lams' / 'test' / f'{f.stem}.png')), blend(im, mean))


def blank_twin_pipeline(world, tmp_path, guide_cfg='yolov5n.yaml', epochs=1, cfg='lagnet-n.yaml', extra=()):
    """pipeline.py --blank --jobs 2 on a copy of the test world's dataset, in ``tmp_path``."""
    shutil.copytree(world['tmp'] / 'ds', tmp_path / 'ds', ignore=shutil.ignore_patterns('lams', '*.cache'))
    data = tmp_path / 'd.yaml'
    data.write_text(yaml.safe_dump({**yaml.safe_load(world['data'].read_text()), 'path': str(tmp_path / 'ds')}))
    args = ['--data', data, '--cfg', cfg, '--guide-cfg', guide_cfg, '--epochs', epochs, '--imgsz', IMG,
            '--batch', 4, '--workers', 0, '--blank', '--jobs', 2, '--name', 'p', *extra]
    return subprocess.run([sys.executable, ROOT / 'pipeline.py', *map(str, args)], cwd=tmp_path, capture_output=True,
                          text=True)


def test_pipeline_with_blank_twin_in_parallel(world, tmp_path):
    """pipeline.py --blank --jobs 2: LAGNet and its blank-LAM twin (LAM = the image) train side by side; the table
    compares guide, LAGNet and twin, each validated on its own LAMs."""
    r = blank_twin_pipeline(world, tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run_dir = tmp_path / 'runs' / 'pipeline' / 'p'
    assert (run_dir / 'results.md').read_text().startswith('| mAP@0.5 | yolov5n (guide, RGB) | lagnet-n | lagnet-n-blank |')
    for f in (tmp_path / 'ds' / 'images' / 'val').iterdir():
        assert np.array_equal(cv2.imread(str(tmp_path / 'ds' / 'lams-blank' / 'val' / f'{f.stem}.png')),
                              cv2.imread(str(f)))
    assert yaml.safe_load((run_dir / 'd-blank.yaml').read_text())['lams'] == 'lams-blank'
    record = json.loads((run_dir / 'val' / 'lagnet-n-blank.json').read_text())
    assert tmp_path / record['args'][record['args'].index('--data') + 1] == run_dir / 'd-blank.yaml'
    assert (run_dir / 'val' / 'lagnet-n-blank' / 'metrics.json').is_file()
    assert json.loads((tmp_path / 'ds' / 'lams-blank' / 'manifest.json').read_text())['blank'] is True  # no guide
    assert '--weights' not in json.loads((run_dir / 'gen_lam_blank.json').read_text())['args']


def test_pipeline_guide_backbone_starts_lagnet_and_twin_from_the_guide(world, tmp_path):
    r = blank_twin_pipeline(world, tmp_path, cfg='dual-cspdarknet-lgb-scem-n.yaml', extra=['--guide-backbone'])
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    run_dir = tmp_path / 'runs' / 'pipeline' / 'p'
    guide = run_dir / 'guide' / 'weights' / 'best.pt'
    for name in ('dual-cspdarknet-lgb-scem-n', 'dual-cspdarknet-lgb-scem-n-blank'):
        args = json.loads((run_dir / f'{name}.json').read_text())['args']
        assert tmp_path / args[args.index('--backbone-weights') + 1] == guide
        assert 'Loaded 396 YOLOv5 backbone tensors from' in (run_dir / f'{name}.log').read_text()
    assert (run_dir / 'val' / 'dual-cspdarknet-lgb-scem-n-blank' / 'metrics.json').is_file()


def test_pipeline_stops_the_twin_when_the_guide_fails(world, tmp_path):
    """The blank twin trains beside the guide; a guide that fails stops it at once, and the guide's error is the
    one reported."""
    r = blank_twin_pipeline(world, tmp_path, guide_cfg='nosuch.yaml', epochs=3)
    assert r.returncode != 0 and 'stage failed (python train.py --cfg nosuch.yaml' in r.stderr, r.stderr[-3000:]
    assert 'lagnet-n-blank' not in r.stderr  # the twin, stopped, is not what went wrong
    assert not (tmp_path / 'runs' / 'pipeline' / 'p' / 'lagnet-n-blank' / 'weights' / 'best.pt').exists()
