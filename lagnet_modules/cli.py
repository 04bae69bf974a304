"""What train.py, val.py and detect.py share: path resolution, reading a model's input width, clear errors."""
import argparse
import sys
from pathlib import Path

import yaml

from .compat import load_checkpoint
from .lam import GuideError
from .paired_data import MissingLAMError
from .paths import find_file
from .registry import ModelConfigError

PATH_FLAGS = {'--cfg': 'models', '--data': 'data', '--hyp': 'data/hyps'}


class UsageError(ValueError):
    """A command line that cannot work; the message says how to fix it."""


def flag_value(argv, flag):
    """The value of ``flag`` in argv (``--flag v`` or ``--flag=v``), else None."""
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + '='):
            return a.split('=', 1)[1]
    return None


def given(argv, *flags):
    return any(a == f or a.startswith(f + '=') for a in argv for f in flags)


WEIGHTS_HINT = 'e.g. --weights runs/train/exp/weights/best.pt'


def require(argv, **hints):
    """Stop with one clear line for the first required flag missing from argv (``data='e.g. --data neu.yaml'``)."""
    for name, hint in hints.items():
        if not given(argv, f'--{name}'):
            raise UsageError(f'--{name} is required, {hint}')


def resolve_paths(argv):
    """argv with --cfg/--data/--hyp values replaced by existing paths (bare names found in this project or stock)."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        flag = a.split('=', 1)[0]
        if flag in PATH_FLAGS and (('=' in a) or i + 1 < len(argv)):
            value = a.split('=', 1)[1] if '=' in a else argv[i + 1]
            if value:
                value = str(find_file(value, PATH_FLAGS[flag]))
            out += [flag, value]
            i += 1 if '=' in a else 2
            continue
        out.append(a)
        i += 1
    return out


def stock_opt(parse_opt, prog, argv):
    """Run a stock ``parse_opt`` on ``argv`` (it reads sys.argv)."""
    saved = sys.argv
    sys.argv = [prog, *argv]
    try:
        return parse_opt()
    finally:
        sys.argv = saved


def checkpoint_model(weights):
    """The model object of a YOLOv5/LAGNet checkpoint (a pickle: trusted files only)."""
    p = Path(weights)
    if not p.is_file():
        raise FileNotFoundError(f'checkpoint {weights} not found (YOLOv5 would try to download it; this project is '
                                'offline): train one with python train.py --cfg <model.yaml> --data <data.yaml>')
    ckpt = load_checkpoint(p)
    model = ckpt.get('ema') or ckpt['model']
    return model, ckpt


def input_channels(cfg=None, weights=None):
    """Input channels of a model YAML or checkpoint: 3 for RGB YOLOv5, 6 for LAGNet (RGB + LAM)."""
    if cfg:
        return yaml.safe_load(Path(cfg).read_text()).get('ch', 3)
    if weights:
        return checkpoint_model(weights)[0].yaml.get('ch', 3)
    return 3


def lam_folder(data):
    """The data YAML's `lams:` key (the folder beside images/ holding LAMs), default 'lams'."""
    from yolov5.utils.general import yaml_load
    return yaml_load(find_file(data, 'data')).get('lams', 'lams') if data else 'lams'


def help_requested(argv):
    return given(argv, '-h', '--help')


def run(prog, fn, argv):
    """Call fn(argv); known user errors end with one line ``prog: message`` and exit code 1."""
    try:
        return fn(argv)
    except (UsageError, FileNotFoundError, MissingLAMError, ModelConfigError, GuideError) as e:
        sys.exit(f'{prog}: {e}')
    except AssertionError as e:  # stock YOLOv5 reports bad input with assert messages
        if not str(e):
            raise
        sys.exit(f'{prog}: {e}')


def extra_parser(description):
    return argparse.ArgumentParser(description=description, add_help=False)
