"""Layer registry and the YAML model parser that YOLOv5's ``Model`` builds through.

Every layer usable in a model YAML is registered here under the name the YAML uses, with a rule that
*declares* how its constructor args and output channels follow from its input channels — stock YOLOv5
layers and LAGNet's alike. Unknown names, bad ``from`` indices and failing constructors stop the build
with a :class:`ModelConfigError` naming the YAML line. There is no ``eval``: string args resolve only
against ``nc``, ``anchors``, ``None``, ``True``, ``False``; any other string is passed as is.
"""
import re
from dataclasses import dataclass
from typing import Callable

from torch import nn
from yolov5.models import common as yc
from yolov5.models.experimental import MixConv2d
from yolov5.models.yolo import Detect, Segment
from yolov5.utils.general import LOGGER, colorstr, make_divisible

from ..input_select import ChannelSlice
from ..lgb import LGB
from ..mobilenetv3 import InvertedResidual, MobileNetConv
from ..scem import SCEM


class ModelConfigError(ValueError):
    """A model YAML that cannot be built; the message names the offending line."""


@dataclass(frozen=True)
class BuildContext:
    width: float  # width_multiple
    outputs: int  # na * (nc + 5): a channel count that is never width-scaled


@dataclass(frozen=True)
class Layer:
    """A YAML layer type: ``channels(c_in, args, ctx) -> (constructor args, output channels)``.

    ``c_in`` is an int for one input and a list for several (``from`` given as a list). ``repeats_inside``
    marks modules that take the YAML ``number`` as their third constructor arg (C3 family) instead of
    being stacked ``number`` times.
    """
    module: type
    channels: Callable
    repeats_inside: bool = False


def _scale(c, ctx):
    return c if c == ctx.outputs else make_divisible(c * ctx.width, 8)


def scaled_out(c_in, args, ctx):
    """Conv-like: args ``[c2, *rest]`` -> ``(c1, c2 · width, *rest)``."""
    c2 = _scale(args[0], ctx)
    return [c_in, c2, *args[1:]], c2


def same_channels(c_in, args, ctx):
    """Channel-preserving layers that do not take c1 (Upsample, Identity)."""
    return args, c_in


def same_channels_c1(c_in, args, ctx):
    """Channel-preserving layers that take c1 first (BatchNorm2d, SCEM)."""
    return [c_in, *args], c_in


def channel_sum(c_in, args, ctx):
    return args, sum(c_in)


def detect_head(c_in, args, ctx):
    """Detect/Segment: append the input channels; an int anchor count becomes placeholder anchors."""
    args = [*args, list(c_in)]
    if isinstance(args[1], int):
        args[1] = [list(range(args[1] * 2))] * len(c_in)
    return args, None


def segment_head(c_in, args, ctx):
    args, _ = detect_head(c_in, args, ctx)
    args[3] = make_divisible(args[3] * ctx.width, 8)
    return args, None


def fixed_out(index):
    """Layers whose output width is the paper's, never width-scaled: ``args[index]`` is c2."""

    def rule(c_in, args, ctx):
        return [c_in, *args], args[index]

    return rule


def channel_slice(c_in, args, ctx):
    start, end = args
    return [c_in, start, end], end - start


def lgb(c_in, args, ctx):
    if not isinstance(c_in, list) or len(c_in) != 2:
        raise ModelConfigError('LGB takes two inputs, from: [rgb_layer, lam_layer]')
    if c_in[0] != c_in[1]:
        raise ModelConfigError(f'LGB inputs must have equal channels, got RGB {c_in[0]} and LAM {c_in[1]}')
    c2 = _scale(args[0], ctx)
    return [c_in[0], c2], c2


_CONV_LIKE = (yc.Conv, yc.GhostConv, yc.Bottleneck, yc.GhostBottleneck, yc.SPP, yc.SPPF, yc.DWConv, MixConv2d, yc.Focus,
              yc.CrossConv, nn.ConvTranspose2d, yc.DWConvTranspose2d)
_CSP = (yc.BottleneckCSP, yc.C3, yc.C3TR, yc.C3SPP, yc.C3Ghost, yc.C3x)

LAYERS = {
    **{m.__name__: Layer(m, scaled_out) for m in _CONV_LIKE if m is not nn.ConvTranspose2d},
    'nn.ConvTranspose2d': Layer(nn.ConvTranspose2d, scaled_out),
    **{m.__name__: Layer(m, scaled_out, repeats_inside=True) for m in _CSP},
    'nn.BatchNorm2d': Layer(nn.BatchNorm2d, lambda c, a, x: ([c], c)),
    'nn.Upsample': Layer(nn.Upsample, same_channels),
    'nn.Identity': Layer(nn.Identity, same_channels),
    'Concat': Layer(yc.Concat, channel_sum),
    'Contract': Layer(yc.Contract, lambda c, a, x: (a, c * a[0] ** 2)),
    'Expand': Layer(yc.Expand, lambda c, a, x: (a, c // a[0] ** 2)),
    'Detect': Layer(Detect, detect_head),
    'Segment': Layer(Segment, segment_head),
    # LAGNet
    'ChannelSlice': Layer(ChannelSlice, channel_slice),
    'MobileNetConv': Layer(MobileNetConv, fixed_out(0)),
    'InvertedResidual': Layer(InvertedResidual, fixed_out(2)),
    'LGB': Layer(LGB, lgb),
    'SCEM': Layer(SCEM, same_channels_c1),
}


def register(name, module, channels, repeats_inside=False):
    """Make ``module`` usable as ``name`` in model YAMLs (see :class:`Layer` for ``channels``)."""
    LAYERS[name] = Layer(module, channels, repeats_inside)


def _activation(act):
    m = re.fullmatch(r'nn\.(\w+)\(\)', act.replace(' ', ''))
    if not m or not isinstance(getattr(nn, m[1], None), type):
        raise ModelConfigError(f"activation: {act!r} is not of the form 'nn.SiLU()'")
    return getattr(nn, m[1])()


def parse_model(d, ch):
    """Build ``nn.Sequential`` and the save list from a model dict; drop-in for ``yolov5.models.yolo.parse_model``."""
    LOGGER.info(f"\n{'':>3}{'from':>18}{'n':>3}{'params':>10}  {'module':<40}{'arguments':<30}")
    anchors, nc, gd, gw = d['anchors'], d['nc'], d['depth_multiple'], d['width_multiple']
    if d.get('activation'):
        yc.Conv.default_act = _activation(d['activation'])  # stock semantics: a global default for Conv
        LOGGER.info(f"{colorstr('activation:')} {d['activation']}")
    na = (len(anchors[0]) // 2) if isinstance(anchors, list) else anchors
    ctx = BuildContext(gw, na * (nc + 5))
    symbols = {'nc': nc, 'anchors': anchors, 'None': None, 'True': True, 'False': False}

    layers, save = [], []
    lines = [('backbone', j, line) for j, line in enumerate(d['backbone'])] + \
            [('head', j, line) for j, line in enumerate(d['head'])]
    for i, (section, j, line) in enumerate(lines):
        where = f'layer {i} ({section}[{j}]: {line})'
        try:
            f, n, name, args = line
        except (TypeError, ValueError):
            raise ModelConfigError(f'{where}: expected [from, number, module, args]') from None
        if name not in LAYERS:
            raise ModelConfigError(f"{where}: unknown layer '{name}'. Known layers: {', '.join(sorted(LAYERS))}. "
                                   'Register new ones with lagnet_modules.registry.register()')
        layer = LAYERS[name]
        for x in [f] if isinstance(f, int) else f:
            if not isinstance(x, int) or not (x == -1 or -i <= x < i):
                raise ModelConfigError(f'{where}: from index {x!r} does not name an earlier layer '
                                       f'(use -1 for the previous layer or 0..{i - 1})')
        args = [symbols.get(a, a) if isinstance(a, str) else a for a in args]
        n = n_ = max(round(n * gd), 1) if n > 1 else n
        try:
            c_in = ch[f] if isinstance(f, int) else [ch[x] for x in f]
            args, c2 = layer.channels(c_in, args, ctx)
            if layer.repeats_inside:
                args.insert(2, n)
                n = 1
            m_ = nn.Sequential(*(layer.module(*args) for _ in range(n))) if n > 1 else layer.module(*args)
        except ModelConfigError as e:
            raise ModelConfigError(f'{where}: {e}') from None
        except Exception as e:
            raise ModelConfigError(f'{where}: {name}{tuple(args)} failed: {type(e).__name__}: {e}') from e
        t = f'{layer.module.__module__}.{layer.module.__qualname__}'
        np = sum(x.numel() for x in m_.parameters())
        m_.i, m_.f, m_.type, m_.np, m_.c2 = i, f, t, np, c2  # c2: declared output channels (tests check it)
        LOGGER.info(f'{i:>3}{str(f):>18}{n_:>3}{np:10.0f}  {t:<40}{str(args):<30}')
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m_)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)
