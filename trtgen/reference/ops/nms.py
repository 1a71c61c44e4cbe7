"""NMS (non-maximum suppression), per batch item and class, as described in NvInfer.h.

Per batch item, boxes are ranked by score across classes and only the best ``topk_box_limit``
are candidates. Within a class, a candidate is kept if its score exceeds the score threshold and
its IoU with every kept box of that class is <= the IoU threshold, up to MaxOutputBoxesPerClass.
Outputs: SelectedIndices [N, 3] rows (batch, class, box) by batch then decreasing score, and
NumOutputBoxes (scalar).
"""

import torch

from layers.backend import trt

from ..registry import handles
from ._util import as_scalar


def _corners(boxes, fmt):
    if fmt == trt.BoundingBoxFormat.CENTER_SIZES:
        center, size = boxes[..., :2], boxes[..., 2:]
        return torch.cat([center - size / 2, center + size / 2], dim=-1)
    low = torch.minimum(boxes[..., :2], boxes[..., 2:])  # either diagonal pair of corners
    high = torch.maximum(boxes[..., :2], boxes[..., 2:])
    return torch.cat([low, high], dim=-1)


def _iou(box, others):
    low = torch.maximum(box[:2], others[:, :2])
    high = torch.minimum(box[2:], others[:, 2:])
    inter = (high - low).clamp(min=0).prod(dim=-1)
    area = lambda b: (b[..., 2:] - b[..., :2]).prod(dim=-1)  # noqa: E731
    union = area(box) + area(others) - inter
    return torch.where(union > 0, inter / union, torch.zeros_like(union))


def _optional_scalar(inputs, index, default):
    return (
        float(as_scalar(inputs[index]))
        if len(inputs) > index and inputs[index] is not None
        else default
    )


@handles("NMS")
def nms(layer, inputs, ctx):
    boxes, scores = inputs[0].float(), inputs[1].float()
    max_per_class = int(as_scalar(inputs[2]))
    iou_threshold = _optional_scalar(inputs, 3, 0.0)
    score_threshold = _optional_scalar(inputs, 4, 0.0)
    boxes = _corners(boxes, layer.bounding_box_format)
    batch, n_boxes, n_classes = scores.shape
    rows = []
    for b in range(batch):
        flat = scores[b].reshape(-1)  # index = box * n_classes + class
        order = torch.argsort(flat, descending=True, stable=True)[: layer.topk_box_limit]
        kept = {c: [] for c in range(n_classes)}
        selected = []
        for index in order.tolist():
            box, cls = divmod(index, n_classes)
            score = flat[index].item()
            if score <= score_threshold or len(kept[cls]) >= max_per_class:
                continue
            coords = boxes[b, box, cls] if boxes.dim() == 4 else boxes[b, box]
            if kept[cls] and bool(
                (_iou(coords, torch.stack([k for _, k in kept[cls]])) > iou_threshold).any()
            ):
                continue
            kept[cls].append((box, coords))
            selected.append([b, cls, box])
        rows += selected  # already in decreasing score order
    indices = torch.tensor(rows, dtype=torch.int64).reshape(-1, 3)
    return indices, torch.tensor(len(rows), dtype=torch.int32)
