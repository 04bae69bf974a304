"""Convert the official GC10-DET release to YOLO layout with a random 9:1 split.

    python data/scripts/prepare_gc10.py --src <GC10-DET root> --out datasets/gc10 [--seed 0]

The release holds class folders of JPGs and Pascal VOC XMLs (anywhere under --src; paired by file stem).
Its XMLs name classes 1_chongkong ... 10_yaozhe; the English names are accepted too. Exit code 1 if the
output would be wrong (unknown class, unparsable XML); clipped boxes only warn. data/gc10.yaml points at
datasets/gc10.
"""
import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from lagnet_modules.voc import IMAGE_SUFFIXES, run  # noqa: E402

NAMES = ['punching_hole', 'welding_line', 'crescent_gap', 'water_spot', 'oil_spot', 'silk_spot', 'inclusion',
         'rolled_pit', 'crease', 'waist_folding']
RAW = ['1_chongkong', '2_hanfeng', '3_yueyawan', '4_shuiban', '5_youban', '6_siban', '7_yiwu', '8_yahen', '9_zhehen',
       '10_yaozhe']


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--src', required=True, help='GC10-DET root (class folders of JPGs, VOC XMLs)')
    ap.add_argument('--out', default='datasets/gc10', help='output dataset root')
    ap.add_argument('--seed', type=int, default=0, help='split seed')
    opt = ap.parse_args(argv)
    src = Path(opt.src)
    if not src.is_dir():
        sys.exit(f'prepare_gc10.py: {src} is not a folder; pass the GC10-DET root with --src')
    images = [p for p in src.rglob('*') if p.suffix.lower() in IMAGE_SUFFIXES]
    return run(images, list(src.rglob('*.xml')), NAMES, {'train': 0.9, 'test': 0.1}, opt.out, opt.seed,
               aliases=dict(zip(RAW, NAMES)))


if __name__ == '__main__':
    sys.exit(main())
