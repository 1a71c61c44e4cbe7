"""Fidelity of the executor on networks built by NVIDIA's ONNX parser, against PyTorch (eval).

Corpus: torchvision resnet18, mobilenet_v3_small, a small VisionTransformer, and a small
transformers BertModel with an attention mask. Weights are random (fixed seed) with non-trivial
BatchNorm statistics and heads re-initialised so the outputs are not ~0.
"""

import pytest
import torch
import torchvision

from onnx_helpers import ParsedNetwork, assert_relative, export_onnx, run_parsed
from trtgen.reference import execute


def _randomize(model, seed=0):
    """Non-trivial BatchNorm stats and O(1) linear heads, deterministically."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                n = module.num_features
                module.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                module.running_var.copy_(torch.rand(n, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                module.bias.copy_(torch.rand(n, generator=gen) - 0.5)
            elif isinstance(module, torch.nn.Linear):
                bound = 1.0 / module.in_features**0.5
                module.weight.copy_(
                    (torch.rand(module.weight.shape, generator=gen) * 2 - 1) * bound
                )
                if module.bias is not None:
                    module.bias.copy_(
                        (torch.rand(module.bias.shape, generator=gen) * 2 - 1) * bound
                    )
    return model.eval()


def _check(model, args, names, expect_layers=()):
    got, expected, parsed = run_parsed(model, args, names)
    assert expected.abs().max() > 1e-2, "degenerate test: the model output is ~0"
    assert_relative(got, expected)
    assert set(expect_layers) <= parsed.layer_types()


def test_resnet18():
    torch.manual_seed(0)
    model = _randomize(torchvision.models.resnet18())
    _check(
        model, (torch.randn(1, 3, 64, 64),), ["x"], {"CONVOLUTION", "POOLING", "MATRIX_MULTIPLY"}
    )


def test_resnet18_fp16():
    """A half-precision ONNX model gives an fp16 strongly typed network: values stay fp16."""
    torch.manual_seed(0)
    model = _randomize(torchvision.models.resnet18()).half()
    got, expected, _ = run_parsed(model, (torch.randn(1, 3, 64, 64).half(),), ["x"])
    assert got.dtype == torch.float16
    assert_relative(got.float(), expected.float(), tol=5e-3)  # both sides round to fp16


def test_mobilenet_v3_small():
    torch.manual_seed(1)
    model = _randomize(torchvision.models.mobilenet_v3_small())
    _check(model, (torch.randn(2, 3, 96, 96),), ["x"], {"CONVOLUTION", "ACTIVATION", "REDUCE"})


def test_vision_transformer():
    torch.manual_seed(2)
    model = torchvision.models.VisionTransformer(
        image_size=32,
        patch_size=8,
        num_layers=2,
        num_heads=4,
        hidden_dim=64,
        mlp_dim=128,
        num_classes=10,
    )
    _check(
        _randomize(model),
        (torch.randn(2, 3, 32, 32),),
        ["x"],
        {"NORMALIZATION", "SOFTMAX", "MATRIX_MULTIPLY"},
    )


class _Bert(torch.nn.Module):
    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, input_ids, attention_mask):
        return self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def _small_bert():
    transformers = pytest.importorskip("transformers")
    config = transformers.BertConfig(
        vocab_size=1000,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=64,
    )
    return _Bert(transformers.BertModel(config)).eval()


@pytest.mark.parametrize("padded", [False, True])
def test_bert(padded):
    torch.manual_seed(3)
    model = _small_bert()
    ids = torch.randint(0, 1000, (2, 16))
    mask = torch.ones(2, 16, dtype=torch.int64)
    if padded:
        mask[1, 9:] = 0
    _check(
        model,
        (ids, mask),
        ["input_ids", "attention_mask"],
        {"GATHER", "NORMALIZATION", "SOFTMAX", "SELECT"},
    )


def test_bert_dynamic_batch_and_sequence():
    """Dynamic axes: the parser builds shape arithmetic (SHAPE, FILL, ...) evaluated per run."""
    torch.manual_seed(4)
    model = _small_bert()
    names = ["input_ids", "attention_mask"]
    example = (torch.randint(0, 1000, (2, 16)), torch.ones(2, 16, dtype=torch.int64))
    axes = {name: {0: "batch", 1: "sequence"} for name in names}
    parsed = ParsedNetwork(export_onnx(model, example, names, dynamic_axes=axes))
    assert tuple(parsed.network.get_input(0).shape) == (-1, -1)
    for batch, length in [(2, 16), (3, 7)]:
        ids = torch.randint(0, 1000, (batch, length))
        mask = torch.ones(batch, length, dtype=torch.int64)
        mask[0, -2:] = 0
        got = execute(parsed.network, {"input_ids": ids, "attention_mask": mask})
        with torch.no_grad():
            expected = model(ids, mask)
        assert_relative(got[parsed.network.get_output(0).name], expected)
