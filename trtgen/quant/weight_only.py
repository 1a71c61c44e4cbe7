"""``--weight-only int8|int4``: Linear weights stored quantized, activations stay float.

W8A16: one scale per output row, max |w| / 127. W4A16: one scale per row and block of 128
input features, max |w| / 7 (INT4 is [-8, 7]). Each Linear becomes
``nn.Linear(..., weight_only="int4")``: an INT8/INT4 CONSTANT rounded at build time from the
float weight and its scales, and a DEQUANTIZE feeding the matrix multiply. A Linear whose
input features are not a multiple of the block stays float for INT4.
"""

import numpy as np
import torch

from .. import __version__
from .placement import skipped

QMAX = {"int8": 127.0, "int4": 7.0}
BLOCK_SIZE = 128
_TINY = np.float32(1e-8)  # an all-zero row or block: any positive scale gives zeros


def mark_linear_modules(model, weight_only, skip):
    """Set ``weight_only`` on every Linear that can take it; returns their paths."""
    marked = []
    for path, module in model.named_modules():
        if not isinstance(module, torch.nn.Linear) or skipped(path, skip):
            continue
        if weight_only == "int4" and module.in_features % BLOCK_SIZE:
            continue
        module.weight_only = weight_only
        marked.append(path)
    return marked


def weight_only_scales(model, weights, weight_only):
    """{``<linear>.weight_scale``: float32 scales} for every weight-only Linear of the
    generated ``model``."""
    scales = {}
    for path, module in model.named_modules():
        if getattr(module, "weight_only", None) is None:
            continue
        weight = np.abs(np.asarray(weights[f"{path}.weight"], dtype=np.float32))
        if weight_only == "int4":
            weight = weight.reshape(weight.shape[0], -1, module.block_size)
        amax = weight.max(axis=-1)
        scale = (amax / np.float32(QMAX[weight_only])).astype(np.float32)
        scales[f"{path}.weight_scale"] = np.where(scale > 0, scale, _TINY).astype(np.float32)
    return scales


def weight_only_metadata(weight_only, skip):
    metadata = {"format": f"weight-only {weight_only}", "skip_quant": ",".join(skip)}
    if weight_only == "int4":
        metadata["block_size"] = str(BLOCK_SIZE)
    return {**metadata, "generator": f"trtgen {__version__}"}
