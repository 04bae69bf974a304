"""Model YAMLs built through the layer registry: stock equivalence, declared channels, LAGNet configs, errors."""
import json
import subprocess
import sys
from copy import deepcopy
from pathlib import Path

import pytest
import torch
import yaml
from torchvision.models import mobilenet_v3_large, mobilenet_v3_small
from yolov5.models import yolo
from yolov5.models.yolo import Model

from lagnet_modules import ModelConfigError, load_mobilenetv3_weights
from lagnet_modules.yolo import compat
from lagnet_modules.paths import CHECKOUT as ROOT, STOCK

# The shipped configs, then the SCEM variants benchmarks/results train (benchmarks/variants.py): every one must build.
CONFIGS = sorted(p.name for p in (ROOT / 'models').glob('*.yaml')) + [
    'yolov5s-scem-sum', 'yolov5s-scem-identity', 'dual-cspdarknet-lgb-scem-s-sum', 'dual-cspdarknet-lgb-scem-n-sum']


def build(cfg, **kw):
    found = [f for f in (ROOT / 'models' / cfg, ROOT / cfg) if f.is_file()]
    return Model(str(found[0]) if found else cfg, **kw)


@pytest.mark.parametrize('name', ['yolov5n', 'yolov5s', 'yolov5m', 'yolov5l', 'yolov5x'])
def test_stock_configs_build_identically(name, monkeypatch):
    cfg = str(STOCK / 'models' / f'{name}.yaml')
    ours = Model(cfg, nc=6)
    monkeypatch.setattr(yolo, 'parse_model', compat.original('yolov5.models.yolo', 'parse_model'))
    stock = Model(cfg, nc=6)
    describe = lambda m: [(x.i, x.f, x.type, x.np, repr(x)) for x in m.model]  # noqa: E731
    assert describe(ours) == describe(stock)
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in stock.parameters())
    assert ours.save == stock.save


@pytest.mark.parametrize('cfg', CONFIGS)
def test_declared_channels_match_forward(cfg, load_benchmark, tmp_path):
    """Every layer's declared output channels (the registry's rule) equal what it really outputs."""
    model = build(load_benchmark('variants').resolve(cfg, tmp_path)).eval()
    seen = {}
    for m in model.model[:-1]:
        m.register_forward_hook(lambda mod, inp, out: seen.__setitem__(mod.i, out.shape[1]))
    model(torch.zeros(1, model.yaml.get('ch', 3), 64, 64))
    assert seen == {m.i: m.c2 for m in model.model[:-1]}


# Exact counts (building is deterministic); the paper reports 31.9M and 8.9M, our readings differ by < 2 %.
PARAMS = {'lagnet-l.yaml': 32_494_901, 'lagnet-s.yaml': 9_033_717, 'lagnet-n.yaml': 3_119_317, 'yolov5s.yaml': 7_035_811}


@pytest.mark.parametrize('cfg', ['lagnet-l.yaml', 'lagnet-s.yaml', 'lagnet-n.yaml'])
def test_lagnet_parameter_counts(cfg):
    model = build(cfg, nc=6)
    assert sum(p.numel() for p in model.parameters()) == PARAMS[cfg]


def test_single_branch_control_is_lagnet_n_without_its_lam_branch():
    """mobilenetv3-small-rgb.yaml (issue 11, H1) differs from lagnet-n.yaml only by the LAM branch and LGB."""
    dual, single = build('lagnet-n.yaml', nc=6), build('mobilenetv3-small-rgb.yaml', nc=6)
    layers = lambda m, first, last: [(x.type, x.np) for x in m.model[first:last + 1]]  # noqa: E731
    assert layers(dual, 1, 14) == layers(single, 1, 14)  # RGB branch
    assert layers(dual, 32, 49) == layers(single, 18, 35)  # neck, SCEM, Detect
    assert [m.c2 for m in dual.model[29:32]] == [m.c2 for m in single.model[15:18]]  # LGB -> Conv1x1, same widths


@pytest.mark.parametrize('cfg', ['lagnet-s.yaml', 'lagnet-l.yaml', 'lagnet-n.yaml'])
def test_dual_model_forward_backward(cfg):
    model = build(cfg, nc=6).train()
    assert model.yaml['ch'] == 6 and model.stride.tolist() == [8, 16, 32]
    x = torch.randn(2, 6, 256, 256)
    out = model(x)
    assert [o.shape for o in out] == [(2, 3, 256 // s, 256 // s, 11) for s in (8, 16, 32)]
    sum(o.mean() for o in out).backward()
    first_rgb, first_lam = (m for m in model.model if type(m).__name__ == 'MobileNetConv' and m.i in (2, 16, 20))
    assert first_rgb[0].weight.grad.abs().sum() > 0 and first_lam[0].weight.grad.abs().sum() > 0


def test_branches_see_their_own_channels():
    """Changing only the LAM channels changes the LAM branch and leaves the RGB branch untouched."""
    model = build('lagnet-s.yaml').eval()
    outs = {}
    for m in model.model:
        m.register_forward_hook(lambda mod, inp, out: outs.__setitem__(mod.i, out))
    x = torch.rand(1, 6, 64, 64)
    model(x)
    rgb, lam = outs[14].clone(), outs[28].clone()
    x[:, 3:] = torch.rand(1, 3, 64, 64)
    model(x)
    assert torch.equal(outs[14], rgb) and not torch.equal(outs[28], lam)


@pytest.mark.parametrize('cfg, tv', [('lagnet-l.yaml', mobilenet_v3_large), ('lagnet-s.yaml', mobilenet_v3_small)])
def test_torchvision_mobilenetv3_weights_load_into_both_branches(cfg, tv):
    model = build(cfg)
    sd = tv(weights=None).state_dict()
    n_features = sum(1 for k in sd if k.startswith('features.'))
    assert load_mobilenetv3_weights(model, sd) == 2 * n_features  # every backbone tensor, once per branch
    layers = [m for m in model.model if type(m).__name__ in ('MobileNetConv', 'InvertedResidual')]
    half = len(layers) // 2
    torch.testing.assert_close(layers[0][0].weight, sd['features.0.0.weight'])
    torch.testing.assert_close(layers[half][0].weight, sd['features.0.0.weight'])
    with pytest.raises(ValueError, match='wrong backbone variant'):
        load_mobilenetv3_weights(build('lagnet-s.yaml' if cfg == 'lagnet-l.yaml' else 'lagnet-l.yaml'), sd)
    with pytest.raises(ValueError, match=r'layer 2 \(10 layers: Conv, Conv, C3'):
        load_mobilenetv3_weights(build('dual-cspdarknet-lgb-scem-n.yaml'), sd)


def test_yolov5_backbone_loads_into_both_dual_cspdarknet_branches():
    from lagnet_modules.branches import branches, load_yolov5_backbone
    model, guide = build('dual-cspdarknet-lgb-scem-n.yaml'), Model(str(STOCK / 'models' / 'yolov5n.yaml'), nc=6)
    rgb, lam = branches(model)
    assert [m.i for m in rgb] == list(range(2, 12)) and [m.i for m in lam] == list(range(13, 23))  # the YAML's comments
    backbone = list(guide.model)[:10]
    n = sum(len(m.state_dict()) for m in backbone)
    others = {k: v.clone() for k, v in model.state_dict().items() if int(k.split('.')[1]) > 22}  # LGB, neck, SCEM, Detect
    assert load_yolov5_backbone(model, guide) == 2 * n  # every tensor, BN statistics included, once per branch
    for branch in (rgb, lam):
        for mine, theirs in zip(branch, backbone):
            for (k, a), b in zip(mine.state_dict().items(), theirs.state_dict().values()):
                assert torch.equal(a, b), (mine.i, k)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in others.items())  # they keep their own init
    with pytest.raises(ValueError, match='must have the config.s depth and width'):
        load_yolov5_backbone(model, Model(str(STOCK / 'models' / 'yolov5s.yaml'), nc=6))
    with pytest.raises(ValueError, match='MobileNetV3 branches .* take a torchvision state dict'):
        load_yolov5_backbone(build('lagnet-s.yaml'), guide)
    with pytest.raises(ValueError, match='no ChannelSlice branches'):
        load_yolov5_backbone(guide, guide)


def small_dict(**changes):
    d = yaml.safe_load((ROOT / 'models' / 'lagnet-s.yaml').read_text())
    d.update(changes)
    return d


def test_unknown_layer_names_the_line():
    d = small_dict()
    d['head'][0] = [-1, 1, 'Conv3000', [512, 1, 1]]
    with pytest.raises(ModelConfigError, match=r"layer 32 \(head\[0\].*unknown layer 'Conv3000'"):
        Model(d)


def test_bad_from_index_names_the_line():
    d = small_dict()
    d['head'][2] = [[-1, 99], 1, 'Concat', [1]]
    with pytest.raises(ModelConfigError, match=r'layer 34 .*from index 99 does not name an earlier layer'):
        Model(d)


def test_lgb_channel_mismatch_fails_at_build():
    d = small_dict()
    d['backbone'][29] = [[5, 24], 1, 'LGB', [256]]  # RGB C3 (24 ch) with LAM C4 (48 ch)
    with pytest.raises(ModelConfigError, match=r'layer 29 .*LGB inputs must have equal channels, got RGB 24 and LAM 48'):
        Model(d)


def test_lgb_stride_mismatch_fails_at_build():
    d = {'nc': 2, 'ch': 6, 'depth_multiple': 1, 'width_multiple': 1, 'anchors': [[10, 13, 16, 30, 33, 23]],
         'backbone': [[-1, 1, 'nn.Identity', []], [0, 1, 'ChannelSlice', [0, 3]], [-1, 1, 'Conv', [16, 3, 2]],
                      [0, 1, 'ChannelSlice', [3, 6]], [-1, 1, 'Conv', [16, 3, 4]], [[2, 4], 1, 'LGB', [16]]],
         'head': [[[-1], 1, 'Detect', ['nc', 'anchors']]]}
    with pytest.raises(ValueError, match=r'LGB \(model layer 5, from \[2, 4\]\).*one shape'):
        Model(deepcopy(d))


def run_summary(*args):
    r = subprocess.run([sys.executable, 'models/summary.py', *args], cwd=ROOT, capture_output=True, text=True)
    return r


@pytest.mark.parametrize('cfg, ch', [('models/lagnet-l.yaml', 6), ('models/lagnet-s.yaml', 6), ('yolov5s.yaml', 3)])
def test_summary_json_contract(cfg, ch):
    r = run_summary('--cfg', cfg, '--json', '--imgsz', '320', '--nc', '6')
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout.strip().splitlines()[-1])
    assert set(s) == {'cfg', 'params', 'gflops', 'input_channels', 'strides'}
    assert s['input_channels'] == ch and s['strides'] == [8, 16, 32] and s['gflops'] > 0
    assert s['params'] == PARAMS[Path(cfg).name]


def test_summary_unknown_config_is_one_clear_error():
    r = run_summary('--cfg', 'nope.yaml')
    assert r.returncode != 0 and 'nope.yaml: not found' in r.stderr and 'lagnet-l.yaml' in r.stderr
    assert 'Traceback' not in r.stderr
