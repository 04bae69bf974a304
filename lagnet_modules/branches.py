"""The branches of a dual backbone, and a trained YOLOv5's backbone loaded into each of them.

A branch is the chain of layers that starts at a ``ChannelSlice`` of the input and feeds only the next layer
(``from: -1``) until a layer reads another (the first LGB)::

    [0, 1, ChannelSlice, [0, 3]],  # RGB branch: the layers after it, up to the first LGB
    [0, 1, ChannelSlice, [3, 6]],  # LAM branch

Not in the paper: pretrained branches usually start from ImageNet weights, which this offline project cannot fetch;
a dual-CSPDarkNet LAGNet can instead start both branches from the backbone of a YOLOv5 of its width trained on the
same data — its guide — with :func:`load_yolov5_backbone`.
"""
from .input_select import ChannelSlice


def branches(model):
    """Each branch of a YOLOv5-built ``model`` (a ``DetectionModel``) as its list of layers, in input order."""
    layers, out = list(model.model), []
    for i, layer in enumerate(layers):
        if isinstance(layer, ChannelSlice):
            branch = []
            for nxt in layers[i + 1:]:
                if nxt.f != -1 or isinstance(nxt, ChannelSlice):
                    break
                branch.append(nxt)
            out.append(branch)
    return out


def load_yolov5_backbone(model, yolo):
    """Copy the backbone of the RGB YOLOv5 ``yolo`` (its YAML's ``backbone`` layers) into every branch of ``model``.

    Layer j of each branch takes layer j of the backbone; types, parameter names and shapes must all agree (a
    dual-CSPDarkNet config at the YOLOv5's depth and width: dual-cspdarknet-lgb-scem-n with yolov5n, -s with yolov5s).
    Raises ValueError saying which layer differs. Returns the number of tensors copied.
    """
    backbone = list(yolo.model)[:len(yolo.yaml['backbone'])]
    expected = [type(m).__name__ for m in backbone]
    found = branches(model)
    if not found:
        raise ValueError('model has no ChannelSlice branches: a YOLOv5 backbone loads into a dual-branch LAGNet')
    copied = 0
    for branch in found:
        names = [type(m).__name__ for m in branch]
        if names != expected:
            raise ValueError(f'the branch from model layer {branch[0].i} ({len(branch)} layers: '
                             f'{", ".join(names[:3])}, …) is not the YOLOv5 backbone ({len(backbone)} layers: '
                             f'{", ".join(expected[:3])}, …): a '
                             'YOLOv5 checkpoint loads into dual-CSPDarkNet configs; MobileNetV3 branches (lagnet-s, '
                             'lagnet-l) take a torchvision state dict')
        for layer, src in zip(branch, backbone):
            own, theirs = layer.state_dict(), src.state_dict()
            shapes = {k: tuple(v.shape) for k, v in own.items()}
            if shapes != {k: tuple(v.shape) for k, v in theirs.items()}:
                raise ValueError(f'model layer {layer.i} ({layer.type}) differs from YOLOv5 layer {src.i} in its '
                                 "tensors' names or shapes: the YOLOv5 must have the config's depth and width "
                                 '(yolov5n for the -n config, yolov5s for -s)')
            layer.load_state_dict(theirs)
            copied += len(theirs)
    return copied
