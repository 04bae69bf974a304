"""The synthetic set's defects are what make_synthetic.py's flags say."""
import numpy as np
import pytest

from lagnet_modules.data.synthetic import scratch


def painted(width):
    """Corners and painted area (anti-aliased coverage, pixels) of the first scratch of seed 0 at ``width``."""
    im = np.zeros((128, 128), np.float32)
    corners = scratch(np.random.default_rng(0), im, 128, (width, width))
    return corners, np.abs(im).sum() / np.abs(im).max()


@pytest.mark.parametrize('width', [1.5, 4.0])
def test_scratch_width_labelled(width):
    """--scratch-width sets the strip's width; it stays a strip (aspect ratio >= 8)."""
    corners, _ = painted(width)
    assert np.linalg.norm(corners[0] - corners[1]) == pytest.approx(width)
    assert np.linalg.norm(corners[1] - corners[2]) / width >= 8


def test_scratch_width_painted():
    """The same scratch (same seed: same length, angle, place) painted 4 px wide covers far more than 1.5 px wide;
    OpenCV's anti-aliased edge adds about a pixel to each, so the ratio is below 4 / 1.5."""
    (_, thin), (_, thick) = painted(1.5), painted(4.0)
    assert 1.5 < thick / thin < 4 / 1.5


def test_scratch_tilt():
    """--scratch-tilt DEG: every scratch runs within DEG degrees of the x or y axis, along both axes."""
    rng = np.random.default_rng(0)
    along = [np.abs(c[1] - c[2]) for c in (scratch(rng, np.zeros((128, 128), np.float32), 128, tilt=10)
                                            for _ in range(200))]  # (dx, dy) along the strip
    tilts = [np.degrees(np.arctan2(min(d), max(d))) for d in along]
    assert max(tilts) <= 10 + 1e-6 and min(tilts) < 1
    assert 60 < sum(dx > dy for dx, dy in along) < 140  # x and y axis about equally often


def test_scratch_length():
    """--scratch-length MIN MAX: lengths in MIN..MAX × the image side, but never shorter than 8 widths (a strip)."""
    rng = np.random.default_rng(0)
    strips = [scratch(rng, np.zeros((128, 128), np.float32), 128, (2, 3), lengths=(0.15, 0.35)) for _ in range(200)]
    width, length = (np.array([np.linalg.norm(c[i] - c[i + 1]) for c in strips]) for i in (0, 1))
    assert (length >= np.maximum(0.15 * 128, 8 * width) - 1e-6).all() and (length <= 0.35 * 128 + 1e-6).all()
    assert (length < 8 * width + 1).any() and (length > 0.3 * 128).any()  # both bounds reached


@pytest.mark.parametrize('flags, message', [(['--scratch-width', '5', '3'], 'needs 0 < MIN <= MAX'),
                                            (['--scratch-length', '0.5', '1.5'], 'needs 0 < MIN <= MAX <= 1'),
                                            (['--scratch-tilt', '60'], 'needs 0 <= DEG <= 45')])
def test_bad_flag_is_one_line_and_writes_nothing(tmp_path, flags, message):
    import subprocess
    import sys
    from lagnet_modules.paths import CHECKOUT
    r = subprocess.run([sys.executable, 'data/scripts/make_synthetic.py', '--out', tmp_path / 'ds', '--n', '3',
                        *flags], cwd=CHECKOUT, capture_output=True, text=True)
    assert r.returncode == 2 and message in r.stderr and 'Traceback' not in r.stderr
    assert not (tmp_path / 'ds').exists()


def test_train_names_the_command_that_makes_missing_images(tmp_path):
    from lagnet_modules.cli.common import UsageError, require_images
    data = tmp_path / 'd.yaml'
    data.write_text('# make it: python data/scripts/make_synthetic.py --out nowhere\n'
                    f"path: {tmp_path / 'nowhere'}\ntrain: images/train\nval: images/val\nnames: {{0: a}}\n")
    with pytest.raises(UsageError, match='no training images at .*nowhere/images/train; make them first: '
                                         'python data/scripts/make_synthetic.py --out nowhere'):
        require_images(data)
    (tmp_path / 'nowhere' / 'images' / 'train').mkdir(parents=True)
    require_images(data, ('train', 'test'))  # a split the YAML leaves out is not asked for
    with pytest.raises(UsageError, match='no val images at .*nowhere/images/val; make them first'):
        require_images(data, ('train', 'val'))


def test_gen_lam_names_the_command_that_makes_missing_images(tmp_path, capsys):
    """gen_lam.py on a dataset not made yet: one line with the command, not stock's 'Dataset not found' traceback."""
    from lagnet_modules.cli import gen_lam
    data = tmp_path / 'd.yaml'
    data.write_text('# make it: python data/scripts/make_synthetic.py --out nowhere\n'
                    f"path: {tmp_path / 'nowhere'}\ntrain: images/train\nval: images/val\nnames: {{0: a}}\n")
    with pytest.raises(SystemExit) as stop:
        gen_lam.main(['--data', data, '--blank'])
    assert 'Traceback' not in capsys.readouterr().err
    assert stop.value.code == (f'gen_lam.py: {data}: no training images at {tmp_path}/nowhere/images/train; '
                               'make them first: python data/scripts/make_synthetic.py --out nowhere')  # exit 1
    assert not (tmp_path / 'nowhere').exists()
