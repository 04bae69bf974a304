"""What every benchmark shares to write its result: the file it goes to and its mean ± std cells.

A result is written to benchmarks/results/<stem>-<date>.md. Its analysis is written by hand under a `## Reading`
heading after the run; a benchmark run again on the same day must not erase it, so a file with a reading is kept
and the new result goes beside it (-2, -3, ...). A bare result is the benchmark's own output: rewritten in place.
"""
import datetime
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / 'results'


def result_path(stem, folder=None):
    """The first of <folder>/<stem>-<date>.md, <stem>-<date>-2.md, ... that is absent or has no `## Reading`."""
    folder = Path(folder or RESULTS)
    dated, n = f'{stem}-{datetime.date.today().isoformat()}', 1
    out = folder / f'{dated}.md'
    while out.is_file() and '\n## Reading' in out.read_text():
        n += 1
        out = folder / f'{dated}-{n}.md'
    return out


def fmt(values, scale=100, digits=1):
    """'mean ± std' (sample std; 0 for one value) of ``values`` × ``scale``."""
    v = scale * np.array(values)
    return f'{v.mean():.{digits}f} ± {v.std(ddof=1) if len(v) > 1 else 0:.{digits}f}'
