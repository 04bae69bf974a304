"""LAGNet (Location-Aware Guidance Network) as a plugin for stock YOLOv5 (``yolov5==7.0.14``).

Importing this package applies :mod:`lagnet_modules.compat` once; after that, ``yolov5.models.yolo.Model``
builds LAGNet configs (``models/lagnet-l.yaml``) like any stock one.
"""
from . import compat
from .attention import ChannelAttention, SpatialAttention
from .input_select import ChannelSlice
from .lgb import LGB
from .mobilenetv3 import InvertedResidual, MobileNetConv, load_mobilenetv3_weights
from .registry import LAYERS, ModelConfigError, register
from .scem import SCEM

compat.apply()

__all__ = ['ChannelAttention', 'SpatialAttention', 'ChannelSlice', 'LGB', 'SCEM', 'InvertedResidual', 'MobileNetConv',
           'load_mobilenetv3_weights', 'LAYERS', 'ModelConfigError', 'register']
