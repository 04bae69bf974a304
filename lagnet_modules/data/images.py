"""Input images: listing a split as stock YOLOv5 does, and reading one without trusting it."""
import os
from pathlib import Path

import cv2
from yolov5.utils.dataloaders import IMG_FORMATS

IMAGE_SUFFIXES = {f'.{f}' for f in IMG_FORMATS}  # what stock YOLOv5 reads as images


def list_images(source):
    """(images, scanned folders) of a split as stock YOLOv5 reads it: a folder (recursively), a ``*.txt`` list
    (paths relative to the list's folder), an image file, or a list of these."""
    images, scanned = [], []
    for s in source if isinstance(source, (list, tuple)) else [source]:
        p = Path(s)
        if p.is_dir():
            scanned.append(str(p))
            images += sorted(str(f) for f in p.rglob('*') if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.suffix == '.txt' and p.is_file():
            for line in p.read_text().splitlines():
                if line.strip():
                    f = Path(line.strip())
                    images.append(os.path.normpath(f if f.is_absolute() else p.parent / f))
        elif p.is_file():
            images.append(str(p))
        else:
            raise FileNotFoundError(f'{s}: no such folder, image list or image')
    return images, scanned


def dataset_images(data):
    """(images, scanned folders) over every split of a checked data dict, each image once."""
    images, scanned = [], []
    for split in ('train', 'val', 'test'):
        if data.get(split):
            i, s = list_images(data[split])
            images += i
            scanned += s
    return sorted(set(images)), sorted(set(scanned))


def truncated_jpeg(path):
    """True for a JPEG without its end marker (OpenCV would decode it grey-filled without a word)."""
    if Path(path).suffix.lower() not in ('.jpg', '.jpeg'):
        return False
    with open(path, 'rb') as f:
        f.seek(0, 2)
        if f.tell() < 2:
            return True
        f.seek(-2, 2)
        return f.read() != b'\xff\xd9'


def read_image(path):
    """BGR uint8 image, or None for a file that is missing, not an image, or truncated."""
    if not Path(path).is_file() or truncated_jpeg(path):
        return None
    return cv2.imread(str(path))
