"""Where this project's and stock YOLOv5's config files live, and how a bare name resolves."""
from pathlib import Path

import yolov5

ROOT = Path(__file__).resolve().parents[1]  # this repository
STOCK = Path(yolov5.__file__).resolve().parent  # the installed yolov5 package


def find_file(name, folder):
    """Resolve ``name`` (``lagnet-l.yaml``, ``yolov5s``, ``neu.yaml`` or a path) in ``folder`` ('models' or 'data').

    Order: the path as given, this repository's ``folder``, stock YOLOv5's ``folder``. Raises FileNotFoundError
    listing the places searched and the files available.
    """
    p = Path(name)
    if p.suffix == '':
        p = p.with_suffix('.yaml')
    candidates = [p, ROOT / folder / p.name, STOCK / folder / p.name]
    for c in candidates:
        if c.is_file():
            return c
    available = sorted({f.name for d in (ROOT / folder, STOCK / folder) for f in d.glob('*.yaml')})
    raise FileNotFoundError(f"{name}: not found in {', '.join(str(c.parent) for c in candidates)}. "
                            f"Available in {folder}/: {', '.join(available)}")
