"""Where each image's LAM lives: one rule, used by gen_lam.py to write and by the pair loader to read.

    .../images/<split>/<stem>.<ext>  ->  .../<lams>/<split>/<stem>.png      images/ <-> labels/ trees (YOLOv5's rule)
    <folder>/<stem>.<ext>            ->  <folder>/../<lams>/<folder name>/<stem>.png   flat folders, labels beside images

``<lams>`` is the data YAML's ``lams:`` key (default ``lams``). A ``lams:`` value that is a path (``/data/neu-lams``,
``../lams``; relative to the dataset ``path:``) instead holds every LAM under it, at the image's path relative to
the dataset root. Raw maps (``gen_lam.py --save-map``) follow the same rule with ``<lams>_maps``.

A LAM may never be written over an input image, nor inside a folder that a split scans for images (stock YOLOv5
reads every image under a split folder, so a LAM there would become a training image): :meth:`LamLayout.check`
refuses such a layout before anything is written, naming the ``lams:`` value to set.
"""
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT = 'lams'


class UnsafeLayoutError(ValueError):
    """The LAM of some image would land on an input image or inside a folder of input images."""


@dataclass(frozen=True)
class LamLayout:
    """``lams``: the data YAML's ``lams:`` value; ``root``: the dataset ``path:`` (for a ``lams:`` path)."""
    lams: str = DEFAULT
    root: str = ''

    @classmethod
    def from_data(cls, data):
        """The layout of a checked data dict (``yolov5.utils.general.check_dataset`` output)."""
        return cls(str(data.get('lams') or DEFAULT), str(data.get('path') or ''))

    @property
    def folder(self):
        """The explicit folder holding all LAMs, or None for the name-based rule."""
        if os.sep in self.lams or '/' in self.lams or self.lams in ('.', '..'):
            p = Path(self.lams)
            return (p if p.is_absolute() else Path(self.root) / p).resolve()
        return None

    def path(self, image, kind='lam'):
        """The LAM (``kind='lam'``) or raw map (``kind='map'``) file of ``image`` (a path)."""
        image = Path(os.path.abspath(image))
        suffix = '' if kind == 'lam' else '_maps'
        if self.folder is not None:
            try:
                rel = image.relative_to(Path(self.root).resolve())
            except ValueError:  # an image listed from outside the dataset root
                rel = Path(image.parent.name) / image.name
            base = self.folder.with_name(self.folder.name + suffix)
            return (base / rel).with_suffix('.png')
        name = self.lams + suffix
        parts = image.parts
        if 'images' in parts[:-1]:
            i = len(parts) - 2 - parts[:-1][::-1].index('images')  # the last images/ folder
            return Path(*parts[:i], name, *parts[i + 1:]).with_suffix('.png')
        return (image.parent.parent / name / image.parent.name / image.name).with_suffix('.png')

    def paths(self, images, kind='lam'):
        return [str(self.path(f, kind)) for f in images]

    def manifest(self, image):
        """The manifest.json recording the guide of the LAM of ``image``."""
        lam = self.path(image)
        return (self.folder if self.folder is not None else lam.parent.parent) / 'manifest.json'

    def check(self, images, scanned, data_file='<data.yaml>', kinds=('lam',)):
        """Raise :class:`UnsafeLayoutError` if an output of ``images`` would be an input image, lie in a folder in
        ``scanned`` (the folders the splits read recursively), or be shared by two images."""
        jobs = [(f, self.path(f, kind)) for f in images for kind in kinds]
        check_outputs(jobs, scanned, f'Set a LAM folder outside the image folders in {data_file}, e.g. '
                                     f'`lams: {self.suggestion(images)}`')

    def suggestion(self, images):
        """A ``lams:`` path beside the dataset that no split scans."""
        root = Path(self.root).resolve() if self.root else Path(os.path.abspath(images[0])).parent
        candidate = root.parent / f'{root.name}-lams'
        return str(candidate)


def check_outputs(jobs, scanned, fix):
    """``jobs``: (input image, output file) pairs. Raise :class:`UnsafeLayoutError`, ending with ``fix``, before
    anything is written if an output is an input image, lies in a scanned folder, or is shared by two images."""
    inputs = {os.path.abspath(f) for f, _ in jobs}
    folders = [Path(os.path.abspath(d)) for d in scanned]
    seen = {}
    for f, out in jobs:
        out = Path(os.path.abspath(out))
        inside = next((d for d in folders if d == out.parent or d in out.parents), None)
        if str(out) in inputs:
            problem = f'would overwrite the input image {out}'
        elif inside is not None:
            problem = f'would be written to {out}, inside {inside}, a folder the dataset reads images from'
        elif seen.setdefault(out, f) != f:
            problem = f'and that of {seen[out]} would both be {out}'
        else:
            continue
        raise UnsafeLayoutError(f'the LAM of {f} {problem}. Nothing was written. {fix}')
