"""NEU-DET (Pascal VOC) -> YOLO layout, the paper's 7:3 split: python data/scripts/prepare_neu.py --src
../shared/datasets/NEU-DET --out datasets/neu.
"""
from lagnet_modules.cli.prepare import neu

if __name__ == '__main__':
    neu()
