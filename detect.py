"""Detect with a YOLOv5 or LAGNet checkpoint: python detect.py --weights best.pt --source images/ (--help for more).
"""
from lagnet_modules.cli.detect import main

if __name__ == '__main__':
    main()
