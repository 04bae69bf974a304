"""Where this project's and stock YOLOv5's config files live, and how a bare name resolves."""
import importlib.util
import os
from pathlib import Path

import yolov5

CHECKOUT = Path(__file__).resolve().parents[1]  # the repository, when running from a checkout or an editable install
STOCK = Path(yolov5.__file__).resolve().parent  # the installed yolov5 package
FOLDERS = {'models': 'models', 'data': 'data', 'data/hyps': 'data.hyps'}  # folder -> package of a regular install


def config_dirs(folder):
    """This project's folders of ``folder`` YAMLs ('models', 'data', 'data/hyps'), then stock YOLOv5's."""
    dirs = [CHECKOUT / folder]
    spec = importlib.util.find_spec(f'lagnet_modules.configs.{FOLDERS[folder]}') if \
        importlib.util.find_spec('lagnet_modules.configs') else None
    if spec and spec.submodule_search_locations:  # a regular install ships the YAMLs as package data
        dirs += [Path(p) for p in spec.submodule_search_locations]
    return [d for d in dirs if d.is_dir()] + [STOCK / folder]


def find_file(name, folder):
    """Resolve ``name`` (``lagnet-l.yaml``, ``yolov5s``, ``neu.yaml`` or a path) in ``folder`` ('models', 'data' or
    'data/hyps'). Order: the path as given, this project's ``folder``, stock YOLOv5's. Raises FileNotFoundError
    listing the places searched and the files available."""
    p = Path(name)
    if p.suffix == '':
        p = p.with_suffix('.yaml')
    dirs = config_dirs(folder)
    for c in [p, *(d / p.name for d in dirs)]:
        if c.is_file():
            return c
    available = sorted({f.name for d in dirs for f in d.glob('*.yaml')})
    raise FileNotFoundError(f"{name}: not found as given nor in {', '.join(str(d) for d in dirs)}. "
                            f"Available: {', '.join(available)}")


def resolve_data_path(data):
    """A data dict with a relative ``path:`` made absolute against the working directory, as YOLOv5 treats every
    other relative path on the command line (``runs/``, ``--source``)."""
    if data.get('path') and not Path(data['path']).is_absolute():
        data = {**data, 'path': os.path.abspath(data['path'])}
    return data
