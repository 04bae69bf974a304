import logging

import pytest
import torch

import lagnet_modules

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
