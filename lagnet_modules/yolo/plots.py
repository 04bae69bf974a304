"""YOLOv5 plots for 6-channel batches: each image is drawn beside its LAM."""
import warnings

import torch
from yolov5.utils import plots
from yolov5.utils.torch_utils import de_parallel

_stock_plot_images = plots.plot_images


def side_by_side(images, targets):
    """(B, 6, H, W) -> (B, 3, H, 2W) [image | LAM]; normalised target x and w are halved to stay on the image."""
    images = torch.cat((images[:, :3], images[:, 3:]), 3)
    if len(targets) and targets[:, 2:6].max() <= 1.01:  # normalised xywh (train batches); val passes pixels
        targets = targets.clone() if isinstance(targets, torch.Tensor) else targets.copy()
        targets[:, [2, 4]] /= 2
    return images, targets


def plot_images(images, targets, *args, **kwargs):
    """Stock plot_images; a 6-channel batch is shown as image | LAM pairs (train_batch*.jpg, val_batch*.jpg)."""
    if images.shape[1] == 6:
        images, targets = side_by_side(images, targets)
    return _stock_plot_images(images, targets, *args, **kwargs)


def log_tensorboard_graph(tb, model, imgsz=(640, 640)):
    """Trace the model into TensorBoard with as many input channels as it takes (stock assumes 3)."""
    from yolov5.utils.general import LOGGER
    try:
        p = next(model.parameters())
        imgsz = (imgsz, imgsz) if isinstance(imgsz, int) else imgsz
        ch = de_parallel(model).yaml.get('ch', 3)
        im = torch.zeros((1, ch, *imgsz)).to(p.device).type_as(p)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            tb.add_graph(torch.jit.trace(de_parallel(model), im, strict=False), [])
    except Exception as e:  # a graph is a nicety; never stop training for it
        LOGGER.warning(f'WARNING ⚠️ TensorBoard graph visualization failure {e}')
