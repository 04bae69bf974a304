"""Dataset preparation scripts: NEU-DET for real, GC10-DET and every bad-input case on fixtures."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from lagnet_modules.paths import CHECKOUT as ROOT

NEU = ROOT.parent / 'shared' / 'datasets' / 'NEU-DET'


def voc(name, boxes, w=200, h=100):
    objs = ''.join(f'<object><name>{n}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>'
                   f'<ymax>{b[3]}</ymax></bndbox></object>' for n, b in boxes)
    return f'<annotation><filename>{name}</filename><size><width>{w}</width><height>{h}</height></size>{objs}</annotation>'


def prepare(script, *args):
    return subprocess.run([sys.executable, f'data/scripts/{script}', *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True)


def write_neu_like(root, files):
    (root / 'IMAGES').mkdir(parents=True)
    (root / 'ANNOTATIONS').mkdir()
    for stem, xml in files.items():
        if xml is not False:
            cv2.imwrite(str(root / 'IMAGES' / f'{stem}.jpg'), np.full((100, 200, 3), 128, np.uint8))
        if xml is not None:
            (root / 'ANNOTATIONS' / f'{stem}.xml').write_text(xml if xml is not False else voc(stem, []))


@pytest.mark.skipif(not NEU.is_dir(), reason='NEU-DET not at ../shared/datasets/NEU-DET')
def test_neu_split_counts_and_reproducible(tmp_path):
    for out in ('a', 'b'):
        r = prepare('prepare_neu.py', '--src', NEU, '--out', tmp_path / out)
        assert r.returncode == 0, r.stdout + r.stderr
    assert '1800 images (1260 train, 540 test), 4189 boxes' in r.stdout and 'no problems found' in r.stdout
    for split, n in (('train', 1260), ('test', 540)):
        a, b = ((tmp_path / o / f'{split}.txt').read_text() for o in ('a', 'b'))
        assert a == b and len(a.split()) == n
        assert len(list((tmp_path / 'a' / 'labels' / split).glob('*.txt'))) == n
    assert not set((tmp_path / 'a' / 'train.txt').read_text().split()) & set((tmp_path / 'a' / 'test.txt').read_text().split())
    other = prepare('prepare_neu.py', '--src', NEU, '--out', tmp_path / 'c', '--seed', 1)
    assert (tmp_path / 'c' / 'train.txt').read_text() != (tmp_path / 'a' / 'train.txt').read_text(), other.stdout


def test_safe_problems_warn_and_are_listed(tmp_path):
    write_neu_like(tmp_path / 'src', {
        'ok_1': voc('ok_1', [('scratches', (10, 10, 50, 30))]),
        'clipped_1': voc('clipped_1', [('patches', (-5, 10, 250, 90))]),
        'degenerate_1': voc('degenerate_1', [('patches', (30, 30, 30, 60)), ('crazing', (1, 1, 20, 20))]),
        'empty_1': voc('empty_1', []),
        'noxml_1': None,
        'noimage_1': False,
    })
    r = prepare('prepare_neu.py', '--src', tmp_path / 'src', '--out', tmp_path / 'out')
    assert r.returncode == 0, r.stdout + r.stderr
    for text in ('1 x box clipped to image: clipped_1.xml', '1 x degenerate box dropped: degenerate_1.xml',
                 '1 x no objects (kept as background): empty_1.xml', '1 x image without annotation (skipped): noxml_1.jpg',
                 '1 x annotation without image (skipped): noimage_1.xml', '4 images'):
        assert text in r.stdout, r.stdout
    labels = {p.stem: p.read_text() for p in (tmp_path / 'out' / 'labels').rglob('*.txt')}
    assert labels['clipped_1'].split() == ['2', '0.500000', '0.500000', '1.000000', '0.800000']
    assert labels['degenerate_1'].split()[0] == '0' and len(labels['degenerate_1'].splitlines()) == 1
    assert labels['empty_1'] == ''


@pytest.mark.parametrize('bad, message', [
    (voc('bad_1', [('rust', (10, 10, 50, 30))]), "unknown class: bad_1.xml: 'rust'"),
    ('<annotation><object>', 'unparsable xml: bad_1.xml'),
])
def test_wrong_output_exits_nonzero(tmp_path, bad, message):
    write_neu_like(tmp_path / 'src', {'ok_1': voc('ok_1', [('scratches', (10, 10, 50, 30))]), 'bad_1': bad})
    r = prepare('prepare_neu.py', '--src', tmp_path / 'src', '--out', tmp_path / 'out')
    assert r.returncode == 1 and message in r.stdout and 'FAILED' in r.stdout, r.stdout


def test_missing_source_is_one_clear_error(tmp_path):
    r = prepare('prepare_neu.py', '--src', tmp_path / 'nowhere')
    assert r.returncode != 0 and 'has no IMAGES/ and ANNOTATIONS/' in r.stderr and 'Traceback' not in r.stderr


def test_gc10_official_layout(tmp_path):
    src = tmp_path / 'GC10-DET'
    raw = ['1_chongkong', '2_hanfeng', '3_yueyawan', '4_shuiban', '5_youban', '6_siban', '7_yiwu', '8_yahen',
           '9_zhehen', '10_yaozhe']
    (src / 'lable').mkdir(parents=True)
    for k, name in enumerate(raw * 2):
        folder = src / str(raw.index(name) + 1)
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / f'img_{k:02d}.jpg'), np.full((100, 200, 3), 100, np.uint8))
        (src / 'lable' / f'img_{k:02d}.xml').write_text(voc(f'img_{k:02d}.jpg', [(name, (5, 5, 60, 40))]))
    r = prepare('prepare_gc10.py', '--src', src, '--out', tmp_path / 'out')
    assert r.returncode == 0, r.stdout + r.stderr
    assert '20 images (18 train, 2 test), 20 boxes' in r.stdout
    classes = sorted(int(p.read_text().split()[0]) for p in (tmp_path / 'out' / 'labels').rglob('*.txt'))
    assert classes == sorted(list(range(10)) * 2)


@pytest.mark.parametrize('script', ['prepare_neu.py', 'prepare_gc10.py'])
@pytest.mark.parametrize('damage', ['truncated', 'not an image'])
def test_unreadable_image_is_named_counted_and_skipped(tmp_path, script, damage):
    cls = 'scratches' if script == 'prepare_neu.py' else 'crease'  # GC10-DET reads the same folders recursively
    files = {f'ok_{i}': voc(f'ok_{i}', [(cls, (10, 10, 50, 30))]) for i in range(4)}
    write_neu_like(tmp_path / 'src', {**files, 'broken_1': voc('broken_1', [(cls, (10, 10, 50, 30))])})
    bad = tmp_path / 'src' / 'IMAGES' / 'broken_1.jpg'
    bad.write_bytes(bad.read_bytes()[:300] if damage == 'truncated' else b'not a jpeg')
    before = bad.read_bytes()
    r = prepare(script, '--src', tmp_path / 'src', '--out', tmp_path / 'out')
    assert r.returncode == 0 and 'Traceback' not in r.stderr, r.stdout + r.stderr
    assert '1 x unreadable image (skipped): broken_1.jpg' in r.stdout and '4 images' in r.stdout, r.stdout
    assert not list((tmp_path / 'out').rglob('broken_1*')) and bad.read_bytes() == before
    listed = (tmp_path / 'out' / 'train.txt').read_text() + (tmp_path / 'out' / 'test.txt').read_text()
    assert 'broken_1' not in listed and len(listed.split()) == 4
