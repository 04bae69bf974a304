import importlib.util
import logging
import sys

import pytest
import torch

import lagnet_modules
from lagnet_modules.paths import CHECKOUT

logging.getLogger('yolov5').setLevel(logging.WARNING)


@pytest.fixture(scope='session', autouse=True)
def _integration():
    """Stock YOLOv5 drives LAGNet in these tests, as in the entry points."""
    lagnet_modules.install()
    yield
    lagnet_modules.uninstall()


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def load_benchmark():
    """benchmarks/<name>.py as a module, its siblings importable as `python benchmarks/<name>.py` has them."""
    def load(name):
        if str(CHECKOUT / 'benchmarks') not in sys.path:
            sys.path.insert(0, str(CHECKOUT / 'benchmarks'))
        spec = importlib.util.spec_from_file_location(name, CHECKOUT / 'benchmarks' / f'{name}.py')
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
