"""Seeded synthetic steel-like surfaces with scratches, weak patches and spots: python data/scripts/make_synthetic.py
--out datasets/synthetic.
"""
from lagnet_modules.data.synthetic import main

if __name__ == '__main__':
    main()
