"""The Markdown a reader follows: every relative link in the project's documents and result files leads somewhere.

Results are read across files (the README's summary, the studies page, each result file with its reading), so a
moved or renamed file must not leave a link behind.
"""
import re
import subprocess

import pytest

from lagnet_modules.paths import CHECKOUT as ROOT

LINK = re.compile(r'\]\(([^)\s]+)\)')
EXTERNAL = re.compile(r'[a-z][a-z0-9+.-]*:|#')  # http:, mailto:, ... and anchors within the same page


def documents():
    try:
        names = subprocess.run(['git', 'ls-files', '--cached', '--others', '--exclude-standard', '*.md'], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):  # an installed copy without .git: what is on disk
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob('*.md')
                 if not {'runs', 'datasets', '.git'} & set(p.relative_to(ROOT).parts)]
    return sorted(names)


def test_the_readme_and_the_studies_page_are_checked():
    assert {'README.md', 'benchmarks/results/README.md'} <= set(documents())


@pytest.mark.parametrize('name', documents())
def test_relative_links_resolve(name):
    doc = ROOT / name
    broken = [target for target in LINK.findall(doc.read_text(encoding='utf-8'))
              if not EXTERNAL.match(target) and not (doc.parent / target.split('#')[0]).exists()]
    assert not broken, f'{name}: links to missing files: {broken}'
