"""F.embedding_bag against torch: sum / mean / max; bags as the rows of a 2-D input or as
offsets into a 1-D input (constants and run-time tensors, include_last_offset, empty bags),
per_sample_weights, padding_idx; and layers.nn.EmbeddingBag. fp32 tolerance:
max |trt - torch| <= 1e-5 x max(1, max |torch|). Every network is built by TensorRT."""

import pytest
import torch
import torch.nn.functional as TF

import layers
from layers import functional as F

from helpers import assert_close, check_and_build, param, rand
from trtgen.reference import execute

WEIGHT = rand(10, 4, seed=1)
INDICES = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9, 0, 0, 7])
OFFSETS = torch.tensor([0, 3, 3, 8])  # bag 1 is empty
MODES = ["sum", "mean", "max"]


@pytest.mark.parametrize("mode", MODES)
def test_offsets_as_a_run_time_tensor(mode):
    w = param("weight", WEIGHT)
    check_and_build(
        lambda i, o: F.embedding_bag(i, w, o, mode=mode),
        lambda i, o: TF.embedding_bag(i, WEIGHT, o, mode=mode),
        INDICES,
        OFFSETS,
    )


@pytest.mark.parametrize("mode", MODES)
def test_include_last_offset_and_constant_offsets(mode):
    w = param("weight", WEIGHT)
    offsets = [0, 2, 2, 7, 11]
    check_and_build(
        lambda i: F.embedding_bag(i, w, offsets, mode=mode, include_last_offset=True),
        lambda i: TF.embedding_bag(
            i, WEIGHT, torch.tensor(offsets), mode=mode, include_last_offset=True
        ),
        INDICES,
    )


@pytest.mark.parametrize("mode", MODES)
def test_two_dimensional_input_with_padding_idx(mode):
    w = param("weight", WEIGHT)
    ids = torch.tensor([[1, 2, 0, 0], [0, 0, 0, 0], [5, 0, 9, 9]])  # row 1: only padding
    check_and_build(
        lambda i: F.embedding_bag(i, w, mode=mode, padding_idx=0),
        lambda i: TF.embedding_bag(i, WEIGHT, mode=mode, padding_idx=0),
        ids,
    )


def test_per_sample_weights():
    w = param("weight", WEIGHT)
    sample_weights = rand(11, seed=2)
    check_and_build(
        lambda i, o, s: F.embedding_bag(i, w, o, mode="sum", per_sample_weights=s),
        lambda i, o, s: TF.embedding_bag(i, WEIGHT, o, mode="sum", per_sample_weights=s),
        INDICES,
        OFFSETS,
        sample_weights,
    )


@pytest.mark.parametrize("mode", MODES)
def test_embedding_bag_module(mode):
    torch.manual_seed(0)
    reference = torch.nn.EmbeddingBag(10, 4, mode=mode).eval()
    module = layers.nn.EmbeddingBag(10, 4, mode=mode)
    module.weight.name = "weight"
    module.weight.set_value(reference.weight.detach().numpy())
    check_and_build(lambda i, o: module(i, o), lambda i, o: reference(i, o), INDICES, OFFSETS)


def test_max_norm_is_refused():
    builder, network = layers.create_network()
    with layers.net_guard(network):
        i = layers.add_input("i", layers.int64, (2, 3))
        with pytest.raises(NotImplementedError, match="max_norm"):
            F.embedding_bag(i, param("weight", WEIGHT), max_norm=1.0)


def test_a_run_time_number_of_indices():
    w = param("weight", WEIGHT)
    builder, network = layers.create_network()
    with layers.net_guard(network):
        ids = layers.add_input("ids", layers.int64, (-1,))
        offsets = layers.add_input("offsets", layers.int64, (4,))
        layers.mark_output(F.embedding_bag(ids, w, offsets, mode="mean"), "mean")
        layers.mark_output(F.embedding_bag(ids, w, offsets, mode="max"), "max")
    profile = {"ids": ((1,), (11,), (32,)), "offsets": ((4,), (4,), (4,))}
    layers.build_engine(builder, network, profiles=[profile])
    for count in (11, 20):
        ids = torch.randint(0, 10, (count,), generator=torch.Generator().manual_seed(count))
        got = execute(network, {"ids": ids, "offsets": OFFSETS})
        for mode in ("mean", "max"):
            assert_close(got[mode], TF.embedding_bag(ids, WEIGHT, OFFSETS, mode=mode))
