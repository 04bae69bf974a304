"""Location activation maps from a guide YOLOv5: python gen_lam.py --weights guide.pt --data neu.yaml (--help for
more).
"""
from lagnet_modules.cli.gen_lam import main

if __name__ == '__main__':
    main()
