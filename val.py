"""Validate a YOLOv5 or LAGNet checkpoint: python val.py --weights best.pt --data neu.yaml [--task test] (--help for
more).
"""
from lagnet_modules.cli.val import main

if __name__ == '__main__':
    main()
