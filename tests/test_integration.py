"""The YOLOv5 integration: nothing patched on import, install()/uninstall() round trip, version check, flags, and a
checkpoint saved by an earlier release still loading."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yolov5

from lagnet_modules.cli import train
from lagnet_modules.cli.common import UsageError
from lagnet_modules.paths import CHECKOUT as ROOT
from lagnet_modules.yolo import compat

LEGACY = ROOT / 'tests' / 'fixtures' / 'lagnet-tiny-a9aca72.pt'  # saved by commit a9aca72, before the package moved


def python(code, cwd=ROOT):
    """Run ``code`` in a fresh process, without what this test process's install() put in the environment."""
    env = {k: v for k, v in os.environ.items() if k != 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD'}
    r = subprocess.run([sys.executable, '-c', code], cwd=cwd, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout


def test_importing_and_unpickling_patch_nothing():
    out = python(f'''
import os, torch, lagnet_modules.lgb, yolov5.models.yolo as y, yolov5.utils.dataloaders as d
from lagnet_modules.yolo import compat
ckpt = torch.load({str(LEGACY)!r}, weights_only=False)  # unpickling imports the layers
assert not compat.installed() and 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD' not in os.environ
changed = [(p.target, p.name) for p in compat.patches() if p.target != compat.ENVIRON and
           getattr(compat._get(p.target, p.name), '__module__', '').startswith('lagnet_modules')]
print(y.parse_model.__module__, d.create_dataloader.__module__, changed)
''')
    assert out.split() == ['yolov5.models.yolo', 'yolov5.utils.dataloaders', '[]']


def test_uninstall_restores_every_stock_object():
    compat.uninstall()
    try:
        table = compat.patches()
        stock = {(p.target, p.name): compat._get(p.target, p.name) for p in table}
        compat.install()
        assert all(compat._get(p.target, p.name) is p.replacement for p in table)
        compat.install()  # a second call changes nothing
        compat.uninstall()
        assert all(compat._get(p.target, p.name) is stock[p.target, p.name] for p in table)
    finally:
        compat.install()


def test_every_patch_has_a_reason_and_a_real_target():
    for p in compat.patches():
        assert len(p.reason) > 15, p
        assert p.target == compat.ENVIRON or compat.original(p.target, p.name) is not p.replacement


def test_validation_nms_does_not_depend_on_the_clock(monkeypatch):
    """Stock NMS skips the rest of a batch once 0.5 + 0.05 · batch seconds have passed; on a busy CPU that dropped
    validation mAP@0.5 from 0.49 to 0.29 mid-training. A clock that jumps 10 s per reading trips stock at once."""
    import yolov5.detect
    import yolov5.utils.general as general
    import yolov5.val
    torch.manual_seed(0)
    pred = torch.rand(4, 50, 5 + 6) * torch.tensor([128, 128, 20, 20] + [1] * 7)  # xywh, obj, 6 classes

    class Jumping:
        now = 0.0

        @classmethod
        def time(cls):
            cls.now += 10
            return cls.now

    calm = general.non_max_suppression(pred)
    monkeypatch.setattr(general, 'time', Jumping)
    assert sum(len(d) for d in general.non_max_suppression(pred)) < sum(len(d) for d in calm)  # stock: cut short
    for nms in (yolov5.val.non_max_suppression, yolov5.detect.non_max_suppression):
        assert all(torch.equal(a, b) for a, b in zip(nms(pred), calm))
    assert general.time is Jumping  # the clock is back once NMS returns


def test_ciou_loss_of_a_zero_size_box_is_finite():
    """Early EMA models have size logits so far below zero that a predicted box has w = h = 0; stock CIoU computes
    atan(0 / 0) there, and LAGNet's validation box and objectness losses read nan for its first epochs."""
    import yaml
    from yolov5.models.yolo import Model
    from yolov5.utils.loss import ComputeLoss
    import yolov5.utils.loss
    stock, ours = compat.original('yolov5.utils.loss', 'bbox_iou'), yolov5.utils.loss.bbox_iou
    zero, target = torch.tensor([[0.2, 0.3, 0.0, 0.0]]), torch.tensor([[0.9, 1.4, 14.7, 4.7]])
    assert torch.isnan(stock(zero, target, CIoU=True)).all() and torch.isfinite(ours(zero, target, CIoU=True)).all()
    boxes = torch.rand(2, 100, 4) * 10 + 1e-3
    assert torch.equal(ours(*boxes, CIoU=True), stock(*boxes, CIoU=True))  # any real box: stock's value, bit for bit

    model = Model(str(ROOT / 'models' / 'lagnet-n.yaml'), nc=6)
    model.hyp = yaml.safe_load((ROOT / 'data' / 'hyps' / 'hyp.lagnet.yaml').read_text())
    raw = [torch.zeros(2, 3, 64 // s, 64 // s, 11) for s in (8, 16, 32)]
    for r in raw:
        r[..., 2:4] = -200.0  # sigmoid(-200) is 0 in float32: every predicted box has zero size
    targets = torch.tensor([[0, 2, 0.5, 0.5, 0.3, 0.2], [1, 5, 0.3, 0.6, 0.1, 0.5]])
    assert torch.isfinite(ComputeLoss(model)(raw, targets)[1]).all()


def test_weights_are_never_looked_up_on_the_hugging_face_hub(monkeypatch):
    """Stock asks the Hub about every weights path; huggingface_hub 1.x (the GPU machine's) has no utils._errors, so
    stock's lookup crashed every training there before it started."""
    import yolov5.models.common
    import yolov5.train
    import yolov5.utils.downloads
    monkeypatch.setitem(sys.modules, 'huggingface_hub.utils._errors', None)  # as in huggingface_hub 1.x
    with pytest.raises(ImportError):
        compat.original('yolov5.train', 'attempt_download_from_hub')('')
    for module in (yolov5.train, yolov5.models.common, yolov5.utils.downloads):
        assert module.attempt_download_from_hub('ultralytics/yolov5s') is None


def test_other_yolov5_version_is_refused(monkeypatch):
    compat.uninstall()
    monkeypatch.setattr(yolov5, '__version__', '7.0.13')
    try:
        with pytest.raises(ImportError, match=r'yolov5==7.0.14, but yolov5 7.0.13 is installed: pip install'):
            compat.install()
        assert not compat.installed()
    finally:
        monkeypatch.undo()
        compat.install()


def test_old_import_paths_are_the_new_modules():
    import lagnet_modules.compat
    import lagnet_modules.paired_data
    import lagnet_modules.registry
    from lagnet_modules.data import pairs
    from lagnet_modules.yolo import registry
    assert lagnet_modules.compat is compat and lagnet_modules.registry is registry
    assert lagnet_modules.paired_data is pairs


def test_legacy_checkpoint_loads_and_runs_in_a_fresh_process():
    out = python(f'''
import torch, lagnet_modules
from lagnet_modules.cli.common import checkpoint_model
lagnet_modules.install()
m, ckpt = checkpoint_model({str(LEGACY)!r})
y = m.float().eval()(torch.zeros(1, 6, 64, 64))[0]
print(m.yaml['ch'], tuple(y.shape))
''')
    assert out.split() == ['6', '(1,', '252,', '8)']  # 3 anchors x (8² + 4² + 2²) cells, 5 + 3 classes


@pytest.fixture
def resumable(tmp_path, monkeypatch):
    """A runs/train/exp/weights/last.pt under a fresh working directory."""
    weights = tmp_path / 'runs' / 'train' / 'exp' / 'weights'
    weights.mkdir(parents=True)
    (weights / 'last.pt').write_bytes(LEGACY.read_bytes())
    monkeypatch.chdir(tmp_path)
    return weights / 'last.pt'


@pytest.mark.parametrize('argv', [['--resume', '--device', 'cpu'], ['--device', 'cpu', '--resume'],
                                  ['--resume', '--workers', '0', '--device', 'cpu']])
def test_bare_resume_means_latest_whatever_follows(resumable, argv):
    opt, _, ch, _ = train.parse(argv)
    assert opt.resume is True and opt.device == 'cpu' and ch == 6


def test_resume_with_a_path_then_other_flags(resumable):
    opt, _, ch, _ = train.parse(['--resume', str(resumable), '--device', 'cpu'])
    assert opt.resume == str(resumable) and opt.device == 'cpu' and ch == 6


def test_paper_recipe_is_the_default_for_lagnet_configs():
    opt, _, ch, _ = train.parse(['--cfg', 'lagnet-s.yaml', '--data', 'synthetic.yaml'])
    assert ch == 6 and opt.epochs == 500 and opt.cos_lr and Path(opt.hyp).name == 'hyp.lagnet.yaml'
    assert opt.weights == ''  # from scratch, nothing downloaded


def test_every_recipe_default_yields_to_the_user():
    opt, _, _, _ = train.parse(['--cfg', 'lagnet-s.yaml', '--data', 'synthetic.yaml', '--epochs', '3', '--hyp',
                                'hyp.demo.yaml', '--no-cos-lr'])
    assert opt.epochs == 3 and not opt.cos_lr and Path(opt.hyp).name == 'hyp.demo.yaml'


def test_rgb_configs_keep_stock_defaults():
    opt, _, ch, _ = train.parse(['--cfg', 'yolov5n.yaml', '--data', 'synthetic.yaml'])
    assert ch == 3 and opt.epochs == 100 and not opt.cos_lr and Path(opt.hyp).name == 'hyp.scratch-low.yaml'


@pytest.mark.parametrize('key', ['lam_dropout', 'lam_miss'])
@pytest.mark.parametrize('value', ['2', '-0.1', 'high'])
def test_lam_hyp_that_is_not_a_probability_is_refused_up_front(tmp_path, key, value):
    hyp = tmp_path / 'hyp.yaml'
    hyp.write_text((ROOT / 'data' / 'hyps' / 'hyp.lagnet.yaml').read_text().replace(f'{key}: 0.0', f'{key}: {value}'))
    with pytest.raises(UsageError, match=f'hyp.yaml: {key}: {value} is not a probability'):
        train.parse(['--cfg', 'lagnet-s.yaml', '--data', 'synthetic.yaml', '--hyp', str(hyp)])
    hyp.write_text(hyp.read_text().replace(f'{key}: {value}', f'{key}: 0.5'))
    assert train.parse(['--cfg', 'lagnet-s.yaml', '--data', 'synthetic.yaml', '--hyp', str(hyp)])[0].hyp == str(hyp)


@pytest.mark.parametrize('flag', ['--noval', '--evolve'])
def test_flags_that_crash_stock_training_are_refused_up_front(flag):
    with pytest.raises(UsageError, match=f'{flag} is not supported: yolov5 7.0.14'):
        train.parse(['--cfg', 'yolov5n.yaml', '--data', 'synthetic.yaml', flag])


def test_backbone_weights_imagenet_fails_at_once_offline():
    with pytest.raises(UsageError, match='runs offline: pass a state dict file'):
        train.backbone_loader('imagenet')


def test_legacy_checkpoint_validates_and_detects(tmp_path):
    """The checkpoint saved by the first release through today's val.py and detect.py (blank LAMs: copies)."""
    import shutil
    r = subprocess.run([sys.executable, 'data/scripts/make_synthetic.py', '--out', tmp_path / 'ds', '--n', '12',
                        '--imgsz', '64'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    for split in ('train', 'val', 'test'):
        shutil.copytree(tmp_path / 'ds' / 'images' / split, tmp_path / 'ds' / 'lams' / split)
    data = tmp_path / 'd.yaml'
    data.write_text(f"path: {tmp_path / 'ds'}\ntrain: images/train\nval: images/val\ntest: images/test\n"
                    "names: {0: scratch, 1: patch, 2: spot}\n")
    r = subprocess.run([sys.executable, 'val.py', '--weights', LEGACY, '--data', data, '--imgsz', '64', '--project',
                        tmp_path / 'val'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / 'val' / 'exp' / 'metrics.json').is_file()
    r = subprocess.run([sys.executable, 'detect.py', '--weights', LEGACY, '--source', tmp_path / 'ds' / 'images' / 'test',
                        '--lams', tmp_path / 'ds' / 'lams' / 'test', '--imgsz', '64', '--project', tmp_path / 'det'],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in (tmp_path / 'det' / 'exp').glob('*.png')) == \
        sorted(p.name for p in (tmp_path / 'ds' / 'images' / 'test').iterdir())


@pytest.mark.parametrize('cfg, tv', [('lagnet-s.yaml', 'mobilenet_v3_small'), ('lagnet-l.yaml', 'mobilenet_v3_large')])
def test_backbone_weights_file_fills_both_branches(tmp_path, cfg, tv):
    import torchvision
    from lagnet_modules.paths import find_file
    sd = getattr(torchvision.models, tv)(weights=None).state_dict()
    torch.save(sd, tmp_path / 'mnv3.pth')
    model = train.backbone_loader(str(tmp_path / 'mnv3.pth'))(str(find_file(cfg, 'models')), ch=3, nc=3)
    convs = [m for m in model.model if type(m).__name__ == 'MobileNetConv']
    assert len(convs) == 4  # stem and last conv of each branch
    for m in (convs[0], convs[2]):
        torch.testing.assert_close(m[0].weight, sd['features.0.0.weight'])
    other = 'mobilenet_v3_large' if tv == 'mobilenet_v3_small' else 'mobilenet_v3_small'
    torch.save(getattr(torchvision.models, other)(weights=None).state_dict(), tmp_path / 'other.pth')
    with pytest.raises(UsageError,
                       match='--backbone-weights .*other.pth: the branch from model layer 2 .* wrong backbone variant'):
        train.backbone_loader(str(tmp_path / 'other.pth'))(str(find_file(cfg, 'models')), ch=3, nc=3)


def test_bare_data_names_reach_stock_parsers_as_files():
    from lagnet_modules.cli.common import resolving
    argv = resolving(['--weights', 'w.pt', '--data', 'neu.yaml', '--task', 'test'], '--data', 'data')
    assert argv[:4] == ['--weights', 'w.pt', '--task', 'test'] and argv[4] == '--data'
    assert argv[5] == str(ROOT / 'data' / 'neu.yaml')
    assert resolving(['--weights', 'w.pt'], '--data', 'data') == ['--weights', 'w.pt']


def test_val_with_a_bare_data_name_is_parsed(tmp_path):
    """A bare name (data/neu.yaml) gets past stock val's own file check: the error is about the weights."""
    r = subprocess.run([sys.executable, 'val.py', '--weights', tmp_path / 'none.pt', '--data', 'neu.yaml'], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 1 and 'none.pt not found' in r.stderr and 'File not found' not in r.stderr, r.stderr
