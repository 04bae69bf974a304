import logging

import pytest
import torch

import lagnet_modules  # noqa: F401  (applies the yolov5 patches)

logging.getLogger('yolov5').setLevel(logging.WARNING)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
