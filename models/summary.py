"""Parameters, GFLOPs, input channels and strides of a model YAML: python models/summary.py --cfg models/lagnet-l.yaml
[--json].
"""
from lagnet_modules.cli.summary import main

if __name__ == '__main__':
    main()
