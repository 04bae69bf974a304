"""LAGNet (Location-Aware Guidance Network, Cui et al.) as a plugin for stock YOLOv5 (``yolov5==7.0.14``).

Three places: the layers (this folder: ``lgb.py``, ``scem.py``, ``mobilenetv3.py``, ``attention.py``,
``input_select.py``), the data side (``data/``: RGB+LAM pairs, LAM layout, Eq. 1, VOC conversion) and the YOLOv5
integration (``yolo/``: layer registry, patches). Importing changes nothing in yolov5; :func:`install` does::

    import lagnet_modules
    lagnet_modules.install()   # stock yolov5.models.yolo.Model now builds models/lagnet-l.yaml
"""
import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# yolov5 7.0.14 imports pkg_resources, which warns on every import; requirements.txt pins setuptools<81 for it.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning,
                        module=r'yolov5\.utils\.general')

# Names exported here, loaded on first use: a data-only tool (VOC conversion) then needs neither torch nor yolov5.
EXPORTS = {'ChannelAttention': 'attention', 'SpatialAttention': 'attention', 'ChannelSlice': 'input_select',
           'LGB': 'lgb', 'SCEM': 'scem', 'InvertedResidual': 'mobilenetv3', 'MobileNetConv': 'mobilenetv3',
           'load_mobilenetv3_weights': 'mobilenetv3', 'LAYERS': 'yolo.registry', 'ModelConfigError': 'yolo.registry',
           'register': 'yolo.registry', 'install': 'yolo.compat', 'uninstall': 'yolo.compat'}
__all__ = list(EXPORTS)


def __getattr__(name):
    if name in EXPORTS:
        return getattr(importlib.import_module(f'{__name__}.{EXPORTS[name]}'), name)
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


# Import paths of the first release, kept for code written against it (checkpoints name only the layers above).
MOVED = {'compat': 'yolo.compat', 'registry': 'yolo.registry', 'plots': 'yolo.plots', 'paired_data': 'data.pairs',
         'lam': 'data.lam', 'voc': 'data.voc'}


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import lagnet_modules.<old>`` gives the module at its new place (the same module object)."""

    def find_spec(self, fullname, path=None, target=None):
        prefix, _, old = fullname.rpartition('.')
        if prefix == __name__ and old in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return importlib.import_module(f'{__name__}.{MOVED[spec.name.rpartition(".")[2]]}')

    def exec_module(self, module):
        pass


if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
    sys.meta_path.append(_MovedModules())
