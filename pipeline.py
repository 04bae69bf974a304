"""The paper pipeline as one command: python pipeline.py --data neu.yaml --cfg lagnet-s.yaml (--help for more)."""
from lagnet_modules.cli.pipeline import main

if __name__ == '__main__':
    main()
