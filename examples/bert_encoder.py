"""Example model for trtgen: a small transformers BERT encoder, built from a config (no download)."""

import torch
from transformers import BertConfig, BertModel


def get_model():
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=1000,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=64,
    )
    return BertModel(config, add_pooling_layer=True)


def get_example_inputs():
    generator = torch.Generator().manual_seed(1)
    input_ids = torch.randint(0, 1000, (2, 16), generator=generator)
    attention_mask = torch.ones(2, 16, dtype=torch.int64)
    attention_mask[1, 11:] = 0  # the second sequence is padded
    return (input_ids, attention_mask)
