"""What the entry points share: installing the integration, stock argument parsing, clear one-line errors."""
import json
import sys
from pathlib import Path

import yaml

from ..data.lam import GuideError
from ..data.layout import UnsafeLayoutError
from ..data.pairs import MissingLAMError
from ..paths import find_file, resolve_data_path
from ..yolo.compat import install, load_checkpoint
from ..yolo.registry import ModelConfigError

WEIGHTS_HINT = 'e.g. --weights runs/train/exp/weights/best.pt'


class UsageError(ValueError):
    """A command line that cannot work; the message says how to fix it."""


def stock_opt(parse_opt, prog, argv):
    """Stock ``parse_opt`` on ``argv``, untouched (it takes no argv but reads sys.argv, which is lent for the call)."""
    saved = sys.argv
    sys.argv = [prog, *map(str, argv)]
    try:
        return parse_opt()
    finally:
        sys.argv = saved


def resolving(argv, flag, folder):
    """``argv`` with the value of ``flag`` (e.g. a bare ``neu.yaml``) replaced by the file it names in ``folder``, for
    stock parsers that check the file themselves (val's parse_opt does)."""
    import argparse
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument(flag)
    known, rest = parser.parse_known_args(argv)
    value = getattr(known, flag.lstrip('-').replace('-', '_'))
    return argv if value is None else [*rest, flag, str(find_file(value, folder))]


def help_requested(argv):
    return any(a in ('-h', '--help') for a in argv)


def checkpoint_model(weights):
    """The model object and dict of a YOLOv5/LAGNet checkpoint (a pickle: trusted files only)."""
    p = Path(weights)
    if not p.is_file():
        raise FileNotFoundError(f'checkpoint {weights} not found (YOLOv5 would try to download it; this project is '
                                'offline): train one with python train.py --cfg <model.yaml> --data <data.yaml>')
    ckpt = load_checkpoint(p)
    return ckpt.get('ema') or ckpt['model'], ckpt


def is_checkpoint(weights):
    """A PyTorch checkpoint (*.pt), as opposed to an exported model (ONNX, TorchScript, ...)."""
    return Path(weights).suffix == '.pt'


def split_lam_manifest(data, split):
    """The manifest.json of the LAMs the pair loader reads for ``split`` of a data YAML, {} if none."""
    from yolov5.utils.general import check_dataset

    from ..data.images import list_images
    from ..data.layout import LamLayout
    try:
        d = check_dataset(str(find_file(data, 'data')))
        return json.loads(LamLayout.from_data(d).manifest(list_images(d[split])[0][0]).read_text())
    except Exception:  # the data, its images, its LAMs or their manifest are gone or unreadable: nothing recorded
        return {}


def lam_manifest(ckpt):
    """The manifest of the LAMs a checkpoint was trained on: the copy train.py records in it (``opt.lam_manifest``),
    else, for older checkpoints, that of its training data's LAMs if they still exist; else {}."""
    opt = ckpt.get('opt') or {}
    return opt.get('lam_manifest') or split_lam_manifest(opt.get('data'), 'train')


LAM_RECIPE_KEYS = ('blank', 'folds', 'guide_sha256', 'guides_sha256', 'imgsz', 'alpha', 'beta', 'colormap', 'score')


def describe_lams(manifest):
    """A LAM manifest in a few words, for messages."""
    if manifest.get('blank'):
        return 'blank LAMs (no guide)'
    guide = (f"{manifest['folds']} fold guides" if manifest.get('folds') else
             f"guide {manifest.get('guide')} (sha256 {str(manifest.get('guide_sha256'))[:12]})")
    return (f"LAMs from {guide} at {manifest.get('imgsz')} px, {manifest.get('colormap')} "
            f"{manifest.get('alpha')}:{manifest.get('beta')}, score {manifest.get('score')}")


def gen_lam_command(manifest, data):
    """The gen_lam.py command that makes LAMs for ``data`` like those a manifest records."""
    from ..data.lam import PAPER_BLEND
    if manifest.get('blank'):
        return f'python gen_lam.py --blank --data {data}'
    if manifest.get('folds'):
        return f'the gen_lam.py --folds {manifest["folds"]} command that made them, with --data {data}'
    flags = [f'--imgsz {manifest.get("imgsz")}'] if manifest.get('imgsz') else []
    flags += [f'--{k} {manifest[k]}' for k in PAPER_BLEND if manifest.get(k, PAPER_BLEND[k]) != PAPER_BLEND[k]]
    flags += [f'--score {manifest["score"]}'] if manifest.get('score', 'obj') != 'obj' else []
    return ' '.join(['python gen_lam.py --weights', str(manifest.get('guide')), '--data', str(data), *flags])


def lams_differ(trained, reading):
    """Whether the LAMs being read were made otherwise than those a model trained on (False when either is unknown)."""
    return bool(trained and reading) and any(trained.get(k) != reading.get(k) for k in LAM_RECIPE_KEYS)


def guide_for(manifest, guide, needs, alternative=''):
    """The guide that makes LAMs for a LAGNet: ``guide`` (--guide), else the one its training LAMs' manifest records,
    if that file still exists (K fold guides: none alone); else one error saying which of the two is missing."""
    recorded = manifest.get('guide')
    if guide or (recorded and Path(recorded).is_file()):
        return guide or recorded
    why = f'the guide its training LAMs record, {recorded}, is gone' if recorded else 'no guide is recorded'
    raise UsageError(f'{needs} ({why}): pass --guide <guide.pt> (the YOLOv5 that made the training LAMs)'
                     f'{alternative}')


def lam_recipe(manifest):
    """How the training LAMs were blended (alpha, beta, colormap, score): a guide making LAMs for this model must
    blend alike, whichever guide it is; the paper's where nothing is recorded."""
    from ..data.lam import PAPER_BLEND
    recipe = {**PAPER_BLEND, 'score': 'obj'}
    return {k: v if manifest.get(k) is None else manifest[k] for k, v in recipe.items()}  # beta 0 is a value


def input_channels(cfg=None, weights=None):
    """Input channels of a model YAML or checkpoint: 3 for RGB YOLOv5, 6 for LAGNet (RGB + LAM)."""
    if cfg:
        return yaml.safe_load(Path(cfg).read_text()).get('ch', 3)
    if weights:
        return checkpoint_model(weights)[0].yaml.get('ch', 3)
    return 3


def data_yaml(data):
    """A data YAML as a dict (bare names found in this project), its relative ``path:`` made absolute; no checks."""
    return resolve_data_path(yaml.safe_load(find_file(data, 'data').read_text()) or {})


def require_images(data, splits=('train',)):
    """Stop with one line if the images of ``splits`` a data YAML names are not there (stock YOLOv5 raises 'Dataset
    not found'), naming the command in the YAML's comments that makes them. A split the YAML leaves out is skipped
    for every split but train."""
    d = data_yaml(data)
    root = Path(d.get('path') or '')
    for split in splits:
        entries = d.get(split) or ('' if split == 'train' else [])
        for entry in entries if isinstance(entries, list) else [entries]:
            if not (root / entry).exists():
                text = find_file(data, 'data').read_text()
                made_by = next((line[line.index('python'):] for line in text.splitlines()
                                if line.startswith('#') and 'python' in line), None)
                raise UsageError(f"{data}: no {'training' if split == 'train' else split} images at {root / entry}; "
                                 + (f'make them first: {made_by}' if made_by else 'make the dataset first'))


def require(argv, **hints):
    """Stop with one clear line for the first required flag missing from argv (``data='e.g. --data neu.yaml'``)."""
    for name, hint in hints.items():
        if not any(a == f'--{name}' or a.startswith(f'--{name}=') for a in argv):
            raise UsageError(f'--{name} is required, {hint}')


def first_weights(opt):
    """The checkpoint a stock ``--weights`` (one path or a list of them) names first."""
    return opt.weights if isinstance(opt.weights, str) else opt.weights[0]


def main(prog, fn, argv=None, stock=None, doc=None, extra=None):
    """Install the YOLOv5 integration and call ``fn(argv)``; known user errors end with one line ``prog: message``
    and exit code 1. For a command that wraps a stock one (``stock``: e.g. ``'yolov5.train'``), ``-h`` prints ``doc``,
    the ``extra`` parser's options and stock's own help."""
    argv = sys.argv[1:] if argv is None else list(map(str, argv))
    if stock and help_requested(argv):
        import importlib
        print(doc)
        if extra:
            extra.print_help()
        return stock_opt(importlib.import_module(stock).parse_opt, prog, ['--help'])
    try:
        install()
        return fn(argv)
    except (UsageError, FileNotFoundError, MissingLAMError, ModelConfigError, GuideError, UnsafeLayoutError) as e:
        sys.exit(f'{prog}: {e}')
    except AssertionError as e:  # stock YOLOv5 reports bad input with assert messages
        if not str(e):
            raise
        sys.exit(f'{prog}: {e}')
