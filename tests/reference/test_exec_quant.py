"""QUANTIZE / DEQUANTIZE: round half to even, clamping per type, per-tensor / per-channel / block
scales, FP8 E4M3 and INT4 outputs."""

import numpy as np
import torch

from layers.backend import trt
from reference_helpers import assert_close, rng


def _qdq(net, x, scale, qtype, axis=None, block_shape=None, out_type=trt.float32):
    xt = net.input("x", x)
    q = net.network.add_quantize(xt, net.const(scale), qtype)
    if axis is not None:
        q.axis = axis
    if block_shape is not None:
        q.block_shape = block_shape
    dq = net.network.add_dequantize(q.get_output(0), net.const(scale), out_type)
    if axis is not None:
        dq.axis = axis
    if block_shape is not None:
        dq.block_shape = block_shape
    return q.get_output(0), dq.get_output(0)


def test_int8_per_tensor_half_even_and_clamp(net):
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49, 100.0, -100.0, 12.7, -12.85], np.float32)
    scale = np.array(0.1 * 10, np.float32)
    q, dq = net.run(*_qdq(net, x, scale, trt.int8))
    expected = np.clip(np.round(x / 1.0), -128, 127)  # np.round is half to even
    assert q.dtype == torch.int8
    assert_close(q, expected.astype(np.int8))
    assert_close(dq, expected.astype(np.float32))


def test_int8_clamps_at_range(net):
    x = np.array([127.4, 127.6, -128.4, -128.6, 1000.0, -1000.0], np.float32)
    q, _ = net.run(*_qdq(net, x, np.array(1.0, np.float32), trt.int8))
    assert_close(q, np.array([127, 127, -128, -128, 127, -128], np.int8))


def test_int8_per_channel(net):
    r = rng(45)
    w = r.standard_normal((4, 3, 2, 2)).astype(np.float32)
    scale = (np.abs(w).reshape(4, -1).max(1) / 127).astype(np.float32)
    q, dq = net.run(*_qdq(net, w, scale, trt.int8, axis=0))
    expected = np.clip(np.round(w / scale.reshape(4, 1, 1, 1)), -128, 127)
    assert_close(q, expected.astype(np.int8))
    assert_close(dq, expected * scale.reshape(4, 1, 1, 1))


def test_fp8_e4m3(net):
    x = np.array([0.0, 0.3, -1.7, 17.0, 300.0, 460.0, -1000.0, 0.001, 2.0625], np.float32)
    q, dq = net.run(*_qdq(net, x, np.array(0.5, np.float32), trt.fp8))
    assert q.dtype == torch.float8_e4m3fn
    expected = torch.from_numpy(np.clip(x / 0.5, -448, 448)).to(torch.float8_e4m3fn)
    assert torch.equal(q.float(), expected.float())
    assert_close(dq, expected.float() * 0.5)


def test_int4_block_quantization(net):
    r = rng(46)
    w = r.standard_normal((8, 4)).astype(np.float32) * 3
    scale = r.uniform(0.3, 0.8, (2, 4)).astype(np.float32)  # blocks of 4 rows
    q, dq = net.run(*_qdq(net, w, scale, trt.int4, block_shape=(4, 1)))
    full = np.repeat(scale, 4, axis=0)
    expected = np.clip(np.round(w / full), -8, 7)
    assert_close(q.float(), expected)
    assert_close(dq, expected * full)


def test_dequantize_to_fp16(net):
    x = np.array([-128, -1, 0, 1, 127], np.int8)
    dq = net.network.add_dequantize(
        net.input("x", x), net.const(np.array(0.25, np.float32)), trt.float16
    )
    out = net.run(dq.get_output(0))
    assert out.dtype == torch.float16
    assert_close(out, x.astype(np.float32) * 0.25)


def test_fp16_input_quantize(net):
    x = np.array([1.0, 2.5, 3.5, -7.0], np.float16)
    q = net.network.add_quantize(net.input("x", x), net.const(np.array(1.0, np.float16)), trt.int8)
    assert_close(net.run(q.get_output(0)), np.array([1, 2, 4, -7], np.int8))
