"""NMS against torchvision.ops.nms applied per batch item and class."""

import numpy as np
import pytest
import torch
import torchvision

from layers.backend import trt
from reference_helpers import assert_close, rng


def _expected(boxes, scores, max_per_class, iou, score_threshold):
    rows = []
    for b in range(scores.shape[0]):
        found = []
        for c in range(scores.shape[2]):
            s = torch.from_numpy(scores[b, :, c])
            keep = torch.nonzero(s > score_threshold).reshape(-1)
            if keep.numel():
                picked = torchvision.ops.nms(torch.from_numpy(boxes[b])[keep], s[keep], iou)[
                    :max_per_class
                ]
                found += [(float(s[keep[i]]), c, int(keep[i])) for i in picked]
        found.sort(key=lambda t: -t[0])
        rows += [[b, c, i] for _, c, i in found]
    return np.array(rows, np.int32).reshape(-1, 3)


@pytest.mark.parametrize(
    "iou,score_threshold,max_per_class", [(0.5, 0.0, 10), (0.3, 0.4, 2), (0.0, 0.2, 5)]
)
def test_nms(net, iou, score_threshold, max_per_class):
    r = rng(49)
    corner = r.uniform(0, 10, (2, 12, 2))
    boxes = np.concatenate([corner, corner + r.uniform(1, 5, (2, 12, 2))], -1).astype(np.float32)
    scores = r.uniform(0, 1, (2, 12, 3)).astype(np.float32)
    layer = net.network.add_nms(
        net.input("boxes", boxes),
        net.input("scores", scores),
        net.const(np.array(max_per_class, np.int32)),
    )
    layer.set_input(3, net.const(np.array(iou, np.float32)))
    layer.set_input(4, net.const(np.array(score_threshold, np.float32)))
    indices, count = net.run(layer.get_output(0), layer.get_output(1))
    expected = _expected(boxes, scores, max_per_class, iou, score_threshold)
    assert int(count) == len(expected)
    assert_close(indices, expected)


def test_nms_center_sizes(net):
    centers = np.array([[[5, 5, 4, 4], [5.5, 5, 4, 4], [20, 20, 2, 2]]], np.float32)
    scores = np.array([[[0.9], [0.8], [0.7]]], np.float32)
    layer = net.network.add_nms(
        net.input("boxes", centers), net.input("scores", scores), net.const(np.array(5, np.int32))
    )
    layer.bounding_box_format = trt.BoundingBoxFormat.CENTER_SIZES
    layer.set_input(3, net.const(np.array(0.5, np.float32)))
    indices = net.run(layer.get_output(0))
    assert_close(indices, np.array([[0, 0, 0], [0, 0, 2]], np.int32))
