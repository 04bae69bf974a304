"""MobileNetV3 (Howard et al. 2019) blocks as YOLOv5 YAML layers, built from torchvision's own.

One YAML line per row of the paper's Table 1/2 (MobileNetV3-Large/Small), args in torchvision's
``bneck_conf`` order so the rows read like ``torchvision.models.mobilenetv3``::

    [-1, 1, MobileNetConv,    [16, 3, 2, HS]]            # c2, k, s, act           (stem, last conv)
    [-1, 1, InvertedResidual, [5, 72, 40, True, RE, 2]]  # k, exp, c2, SE, act, s   (bneck)

Module and parameter names match torchvision's ``features.<j>`` so an ImageNet state dict loads into
both branches with :func:`load_mobilenetv3_weights`. Channels are the paper's and are not scaled by
the model's ``width_multiple``: scaling them would break that mapping.
"""
import re
from functools import partial

from torch import nn
from torchvision.models import mobilenetv3 as tv
from torchvision.ops.misc import Conv2dNormActivation

from .branches import branches

# torchvision's MobileNetV3 BN settings (eps 1e-3, momentum 0.01), kept so ImageNet weights behave as trained.
_NORM = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)
_ACTIVATIONS = {'HS': nn.Hardswish, 'RE': nn.ReLU}


def _activation(name):
    if name not in _ACTIVATIONS:
        raise ValueError(f"MobileNetV3 activation must be one of {sorted(_ACTIVATIONS)} ('HS' hard-swish, 'RE' ReLU), "
                         f'got {name!r}')
    return _ACTIVATIONS[name]


class MobileNetConv(Conv2dNormActivation):
    """Conv-BN-activation (MobileNetV3 stem and final 1×1): (B, c1, H, W) -> (B, c2, H/s, W/s)."""

    def __init__(self, c1, c2, k=3, s=1, act='HS'):
        super().__init__(c1, c2, kernel_size=k, stride=s, norm_layer=_NORM, activation_layer=_activation(act))


class InvertedResidual(tv.InvertedResidual):
    """MobileNetV3 bneck: 1×1 expand, k×k depthwise, optional squeeze-excite, 1×1 project, residual when shapes allow.

    (B, c1, H, W) -> (B, c2, H/s, W/s). torchvision's block, configured from one YAML row.
    """

    def __init__(self, c1, k, exp, c2, se, act, s):
        _activation(act)
        super().__init__(tv.InvertedResidualConfig(c1, k, exp, c2, bool(se), act, s, 1, 1.0), _NORM)


MOBILENET_LAYERS = (MobileNetConv, InvertedResidual)


def load_mobilenetv3_weights(model, state_dict):
    """Load a torchvision ``mobilenet_v3_{large,small}`` state dict into every branch of ``model``.

    ``features.<j>.*`` is copied into layer j of each branch (:func:`~lagnet_modules.branches.branches`: the layers
    after each ``ChannelSlice``, RGB then LAM); the classifier is ignored. Raises ValueError if a branch is not the
    state dict's MobileNetV3 (layer count, types, tensor names or shapes). Returns the number of tensors copied.
    """
    features = {}
    for key, value in state_dict.items():
        m = re.fullmatch(r'features\.(\d+)\.(.+)', key)
        if m:
            features.setdefault(int(m[1]), {})[m[2]] = value
    if not features:
        raise ValueError('state dict has no features.<j>.* tensors: is it a torchvision MobileNetV3?')
    n = max(features) + 1
    found = branches(model)
    if not found:
        raise ValueError('model has no ChannelSlice branches: MobileNetV3 weights load into a dual-branch LAGNet')
    copied = 0
    for branch in found:
        if len(branch) != n or not all(isinstance(m, MOBILENET_LAYERS) for m in branch):
            names = ', '.join(type(m).__name__ for m in branch[:3])
            raise ValueError(f'the branch from model layer {branch[0].i} ({len(branch)} layers: {names}, …) is not the '
                             f'{n}-block MobileNetV3 of the state dict (MobileNetV3-Large has 17 blocks, -Small 13): '
                             'wrong backbone variant? (dual-CSPDarkNet configs take a YOLOv5 checkpoint)')
        for j, layer in enumerate(branch):
            own, src = layer.state_dict(), features.get(j, {})
            if set(own) != set(src):
                raise ValueError(f'features.{j} does not match model layer {layer.i}: '
                                 f'missing {sorted(set(own) - set(src))[:3]}, unused {sorted(set(src) - set(own))[:3]}')
            for k, v in src.items():
                if own[k].shape != v.shape:
                    raise ValueError(f'features.{j}.{k}: shape {tuple(v.shape)} != model layer {layer.i} '
                                     f'{tuple(own[k].shape)}')
            layer.load_state_dict(src)
            copied += len(src)
    return copied
