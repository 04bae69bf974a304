"""GC10-DET (Pascal VOC) -> YOLO layout, 9:1 split: python data/scripts/prepare_gc10.py --src <GC10-DET root> --out
datasets/gc10.
"""
from lagnet_modules.cli.prepare import gc10

if __name__ == '__main__':
    gc10()
