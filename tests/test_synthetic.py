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
