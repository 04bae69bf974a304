"""Export a YOLOv5 or LAGNet checkpoint (LAGNet with its guide inside, RGB in): python export.py --weights best.pt
--include onnx (--help for more).
"""
from lagnet_modules.cli.export import main

if __name__ == '__main__':
    main()
