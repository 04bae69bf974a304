"""SCEM ablation configs derived from a shipped config, so that no YAML is copied for a table row (issue 11, Table 5).

    python benchmarks/variants.py dual-cspdarknet-lgb-scem-s-sum      # -> runs/cfgs/dual-cspdarknet-lgb-scem-s-sum.yaml
    python train.py --cfg runs/cfgs/dual-cspdarknet-lgb-scem-s-sum.yaml --data demo.yaml

A variant is named <config>-<reading>: every SCEM layer of <config>.yaml (models/) gets the reading's args
[k, n, merge, identity] (SCEM's defaults 5, 2, product, False are Eq. 6-10 as written):

    sum        [5, 2, sum]            S^h + S^v instead of Eq. 9's S^h x S^v
    identity   [5, 2, product, True]  Y = P + Conv1x1(Conv1x1(S)): Detect keeps P
    k{K}n{N}   [K, N]                 strip length K and depth N (Table 5's grid)

seeds.py and accuracy.py take these names wherever they take a config; the rest of the file is the base config's
text, comments included.
"""
import argparse
import re
from pathlib import Path

from lagnet_modules.paths import find_file

READINGS = {'sum': [5, 2, 'sum'], 'identity': [5, 2, 'product', True]}
SCEM_LINE = re.compile(r'(\bSCEM,\s*)\[[^\]]*\]')


def scem_args(name):
    """(base config, SCEM args) of a variant name; None when ``name`` names no variant."""
    base, _, reading = name.rpartition('-')
    grid = re.fullmatch(r'k(\d+)n(\d+)', reading)
    args = READINGS.get(reading) or (grid and [int(grid[1]), int(grid[2])])
    return (base, args) if base and args and not Path(name).suffix else None


def derive(name, out_dir):
    """Write the variant ``name`` as ``out_dir/<name>.yaml`` and return its path."""
    base, args = scem_args(name)
    path = find_file(f'{base}.yaml', 'models')
    line_args = f"[{', '.join(map(str, args))}]"  # as the YAML lines write them: [5, 2, sum]
    derived, count = SCEM_LINE.subn(lambda m: m[1] + line_args, path.read_text())
    if not count:
        raise ValueError(f'{name}: {path} has no SCEM layer to read as {line_args}; '
                         'derive from a config with SCEM (lagnet-*, *scem*)')
    out = Path(out_dir) / f'{name}.yaml'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(f'# {name}: {base}.yaml with every SCEM read as {line_args} (benchmarks/variants.py)\n' + derived)
    return str(out)


def resolve(cfg, out_dir):
    """``cfg`` as train.py takes it: a variant name derived under ``out_dir``, anything else unchanged."""
    return derive(cfg, out_dir) if scem_args(cfg) else cfg


def resolve_args(cfgs, out_dir, ap):
    """:func:`resolve` of each of ``cfgs``, a command's argument: a variant that cannot be derived ends the command
    with one usage-error line of its parser ``ap``."""
    try:
        return [resolve(c, out_dir) for c in cfgs]
    except (ValueError, FileNotFoundError) as e:
        ap.error(str(e))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('names', nargs='+', help='variant names, e.g. yolov5s-scem-sum lagnet-s-k9n3')
    ap.add_argument('--out', default='runs/cfgs', help='folder for the derived YAMLs')
    opt = ap.parse_args(argv)
    for name in opt.names:
        if not scem_args(name):
            ap.error(f'{name}: not a variant name (<config>-sum, <config>-identity or <config>-k<K>n<N>)')
        try:
            print(derive(name, opt.out))
        except (ValueError, FileNotFoundError) as e:
            ap.exit(2, f'variants.py: {e}\n')


if __name__ == '__main__':
    main()
