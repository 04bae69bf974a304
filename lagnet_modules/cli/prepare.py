"""Convert NEU-DET or GC10-DET (Pascal VOC) to YOLO layout with the paper's random split, reporting bad input.

    python data/scripts/prepare_neu.py --src ../shared/datasets/NEU-DET --out datasets/neu [--seed 0]   # 7:3
    python data/scripts/prepare_gc10.py --src <GC10-DET root> --out datasets/gc10 [--seed 0]            # 9:1

NEU-DET: <src>/IMAGES/*.jpg and <src>/ANNOTATIONS/*.xml. GC10-DET: class folders of JPGs and VOC XMLs anywhere
under --src (its XMLs name classes 1_chongkong ... 10_yaozhe; the English names are accepted too). Images and
XMLs pair by file stem. Writes images/<split>, labels/<split> and <split>.txt. Exit code 1 if the output would be
wrong (unknown class, unparsable XML); clipped boxes, unreadable or truncated images, unpaired files are reported,
counted and skipped. data/neu.yaml and data/gc10.yaml point at the default outputs.
"""
import argparse
import sys
from pathlib import Path

from ..data.voc import IMAGE_SUFFIXES, run

NEU_NAMES = ['crazing', 'inclusion', 'patches', 'pitted_surface', 'rolled-in_scale', 'scratches']
GC10_NAMES = ['punching_hole', 'welding_line', 'crescent_gap', 'water_spot', 'oil_spot', 'silk_spot', 'inclusion',
              'rolled_pit', 'crease', 'waist_folding']
GC10_RAW = ['1_chongkong', '2_hanfeng', '3_yueyawan', '4_shuiban', '5_youban', '6_siban', '7_yiwu', '8_yahen',
            '9_zhehen', '10_yaozhe']


def parser(prog, src_default, out_default):
    ap = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--src', default=src_default, required=src_default is None, help='the release\'s root folder')
    ap.add_argument('--out', default=out_default, help='output dataset root')
    ap.add_argument('--seed', type=int, default=0, help='split seed')
    return ap


def neu(argv=None):
    opt = parser('prepare_neu.py', '../shared/datasets/NEU-DET', 'datasets/neu').parse_args(argv)
    src = Path(opt.src)
    if not (src / 'IMAGES').is_dir() or not (src / 'ANNOTATIONS').is_dir():
        sys.exit(f'prepare_neu.py: {src} has no IMAGES/ and ANNOTATIONS/ folders; pass the NEU-DET root with --src')
    images = [p for p in (src / 'IMAGES').iterdir() if p.suffix.lower() in IMAGE_SUFFIXES]
    sys.exit(run(images, list((src / 'ANNOTATIONS').glob('*.xml')), NEU_NAMES, {'train': 0.7, 'test': 0.3}, opt.out,
                 opt.seed))


def gc10(argv=None):
    opt = parser('prepare_gc10.py', None, 'datasets/gc10').parse_args(argv)
    src = Path(opt.src)
    if not src.is_dir():
        sys.exit(f'prepare_gc10.py: {src} is not a folder; pass the GC10-DET root with --src')
    images = [p for p in src.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES]
    sys.exit(run(images, list(src.rglob('*.xml')), GC10_NAMES, {'train': 0.9, 'test': 0.1}, opt.out, opt.seed,
                 aliases=dict(zip(GC10_RAW, GC10_NAMES))))
