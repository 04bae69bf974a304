"""Train YOLOv5 or LAGNet with stock YOLOv5's trainer: python train.py --cfg models/lagnet-s.yaml --data neu.yaml
(--help for more).
"""
from lagnet_modules.cli.train import main

if __name__ == '__main__':
    main()
