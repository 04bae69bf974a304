"""Pascal VOC -> YOLO conversion with a report of every bad input (nothing is dropped silently)."""
import random
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

IMAGE_SUFFIXES = ('.jpg', '.jpeg', '.png', '.bmp')


@dataclass
class Report:
    """Problems found while converting, by kind; ``fatal`` kinds make the output wrong (exit non-zero)."""
    problems: dict = field(default_factory=lambda: {k: [] for k in (
        'unknown class', 'unparsable xml', 'box clipped to image', 'degenerate box dropped', 'no objects (kept as '
        'background)', 'unreadable image (skipped)', 'image without annotation (skipped)',
        'annotation without image (skipped)')})
    FATAL = ('unknown class', 'unparsable xml')

    def add(self, kind, item):
        self.problems[kind].append(item)

    @property
    def fatal(self):
        return any(self.problems[k] for k in self.FATAL)

    def render(self, show=5):
        lines = []
        for kind, items in self.problems.items():
            if items:
                more = f' (+{len(items) - show} more)' if len(items) > show else ''
                lines.append(f"  {'ERROR' if kind in self.FATAL else 'warning'}: {len(items)} x {kind}: "
                             f"{'; '.join(map(str, items[:show]))}{more}")
        return '\n'.join(lines) or '  no problems found'


def pair_files(images, xmls, report):
    """Pair image and XML files by stem; unpaired files are reported and skipped."""
    im_by_stem = {p.stem: p for p in images}
    xml_by_stem = {p.stem: p for p in xmls}
    for stem in sorted(set(im_by_stem) - set(xml_by_stem)):
        report.add('image without annotation (skipped)', im_by_stem[stem].name)
    for stem in sorted(set(xml_by_stem) - set(im_by_stem)):
        report.add('annotation without image (skipped)', xml_by_stem[stem].name)
    return [(s, im_by_stem[s], xml_by_stem[s]) for s in sorted(set(im_by_stem) & set(xml_by_stem))]


def read_boxes(xml_file, image_size, class_index, report):
    """YOLO label rows ``(cls, x, y, w, h)`` of one VOC file, boxes clipped to the real image size."""
    w, h = image_size
    try:
        objects = ET.parse(xml_file).getroot().findall('object')
    except ET.ParseError as e:
        report.add('unparsable xml', f'{xml_file.name} ({e})')
        return []
    if not objects:
        report.add('no objects (kept as background)', xml_file.name)
    rows = []
    for obj in objects:
        name = (obj.findtext('name') or '').strip()
        if name not in class_index:
            report.add('unknown class', f'{xml_file.name}: {name!r}')
            continue
        try:
            box = [float(obj.find('bndbox').findtext(k)) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
        except (AttributeError, TypeError, ValueError):
            report.add('unparsable xml', f'{xml_file.name}: bad bndbox')
            continue
        x1, y1, x2, y2 = min(max(box[0], 0), w), min(max(box[1], 0), h), min(max(box[2], 0), w), min(max(box[3], 0), h)
        if (x1, y1, x2, y2) != tuple(box):
            report.add('box clipped to image', f'{xml_file.name}: {box} -> {[x1, y1, x2, y2]}')
        if x2 - x1 < 1 or y2 - y1 < 1:
            report.add('degenerate box dropped', f'{xml_file.name}: {box}')
            continue
        rows.append((class_index[name], (x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h))
    return rows


def random_split(stems, fractions, seed):
    """Seeded random split of sorted stems: {'train': [...], 'test': [...]} by ``fractions`` (dict, sums to 1)."""
    stems = sorted(stems)
    random.Random(seed).shuffle(stems)
    out, start = {}, 0
    names = list(fractions)
    for i, name in enumerate(names):
        end = len(stems) if i == len(names) - 1 else start + round(fractions[name] * len(stems))
        out[name] = sorted(stems[start:end])
        start = end
    return out


def image_size(path, report):
    """(width, height) of an image that decodes completely, else None (reported: truncated or not an image)."""
    try:
        with Image.open(path) as f:
            f.load()  # decode it all: a truncated file has a valid header
            return f.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as e:
        report.add('unreadable image (skipped)', f'{path.name} ({type(e).__name__}: {e})')
        return None


def convert(pairs, names, splits, out, report, aliases=None):
    """Write ``out/images/<split>``, ``out/labels/<split>`` and ``out/<split>.txt``; return the number of boxes.

    The split is drawn before images are decoded, so one unreadable image leaves every other image's split as is."""
    class_index = {n: i for i, n in enumerate(names)}
    class_index.update({a: class_index[n] for a, n in (aliases or {}).items()})
    by_stem = {s: (im, xml) for s, im, xml in pairs}
    boxes = 0
    for split, stems in splits.items():
        (out / 'images' / split).mkdir(parents=True, exist_ok=True)
        (out / 'labels' / split).mkdir(parents=True, exist_ok=True)
        listed = []
        for stem in stems:
            im, xml = by_stem[stem]
            size = image_size(im, report)
            if size is None:
                continue
            rows = read_boxes(xml, size, class_index, report)
            shutil.copyfile(im, out / 'images' / split / im.name)
            (out / 'labels' / split / f'{stem}.txt').write_text(
                ''.join(f'{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n' for c, x, y, w, h in rows))
            listed.append(f'./images/{split}/{im.name}')
            boxes += len(rows)
        (out / f'{split}.txt').write_text('\n'.join(listed) + '\n')
    return boxes


def run(images, xmls, names, fractions, out, seed, aliases=None):
    """Pair, split, convert and print the report. Returns the process exit code (1 if the output is wrong)."""
    report = Report()
    pairs = pair_files(images, xmls, report)
    splits = random_split([s for s, _, _ in pairs], fractions, seed)
    boxes = convert(pairs, names, splits, Path(out), report, aliases)
    written = {k: len((Path(out) / f'{k}.txt').read_text().split()) for k in splits}
    sizes = ', '.join(f'{n} {k}' for k, n in written.items())
    print(f'{sum(written.values())} images ({sizes}), {boxes} boxes -> {out}\nReport:\n{report.render()}')
    if report.fatal:
        print(f'FAILED: the output in {out} is incomplete; fix the errors above (or the class list) and run again.')
        return 1
    return 0
