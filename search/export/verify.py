"""An exported ONNX file scored the way its user would run it: onnxruntime, its own metadata, the validation split.

The check an export has to pass is not "same outputs as the PyTorch module"
(:mod:`search.export.formats` does that on random inputs) but "the accuracy
the run reported": that also catches a wrong resolution, channel order, mean
or std in the metadata, which no output comparison at a fixed input would.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from search.export.formats import METADATA_KEY


def onnx_accuracy(path: Path, dataset_options: dict[str, str]) -> tuple[float, dict]:
    """Top-1 accuracy of the file on its dataset's validation split, and the metadata that preprocessed it.

    The metadata is read as onnxruntime, not the onnx package, reads it (what a
    deployment sees), from the same session that scores.  Images are resized
    from the dataset's source resolution to the file's input resolution
    (bilinear, antialiased, rounded back to 8-bit levels, as a user resizing a
    photo would), scaled to [0, 1], then normalised.
    """
    import onnxruntime

    from evaluators.data import load_dataset

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    meta = json.loads(session.get_modelmeta().custom_metadata_map[METADATA_KEY])
    data = load_dataset(meta["dataset"], resolution=meta["source_resolution"], **dataset_options)
    size = (meta["input_resolution"],) * 2
    images = F.interpolate(data.val_images.float(), size=size, mode="bilinear", align_corners=False, antialias=True)
    images = images.round().clamp(0, 255)
    mean, std = (torch.tensor(meta[key]).view(1, -1, 1, 1) for key in ("mean", "std"))
    inputs = ((images / 255 - mean) / std).numpy().astype(np.float32)
    logits = session.run(None, {"images": inputs})[0]
    return float((logits.argmax(1) == data.val_labels.numpy()).mean()), meta
