"""Convert the official NEU-DET release (Pascal VOC) to YOLO layout with the paper's random 7:3 split.

    python data/scripts/prepare_neu.py --src ../shared/datasets/NEU-DET --out datasets/neu [--seed 0]

Reads <src>/IMAGES/*.jpg and <src>/ANNOTATIONS/*.xml (paired by file stem), writes images/{train,test},
labels/{train,test} and the split as train.txt / test.txt. data/neu.yaml points at datasets/neu.
Exit code 1 if the output would be wrong (unknown class, unparsable XML); clipped boxes only warn.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lagnet_modules.voc import IMAGE_SUFFIXES, run  # noqa: E402

NAMES = ['crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches']


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--src', default='../shared/datasets/NEU-DET', help='NEU-DET root with IMAGES/ and ANNOTATIONS/')
    ap.add_argument('--out', default='datasets/neu', help='output dataset root')
    ap.add_argument('--seed', type=int, default=0, help='split seed')
    opt = ap.parse_args(argv)
    src = Path(opt.src)
    if not (src / 'IMAGES').is_dir() or not (src / 'ANNOTATIONS').is_dir():
        sys.exit(f'prepare_neu.py: {src} has no IMAGES/ and ANNOTATIONS/ folders; pass the NEU-DET root with --src')
    images = [p for p in (src / 'IMAGES').iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    return run(images, list((src / 'ANNOTATIONS').glob('*.xml')), NAMES, {'train': 0.7, 'test': 0.3}, opt.out,
               opt.seed)


if __name__ == '__main__':
    sys.exit(main())
