"""A tiny Llama (transformers, random weights): RMSNorm, rotary embeddings, grouped-query
attention (4 query heads over 2 key/value heads), a SiLU-gated MLP."""

import torch
import transformers


def get_model():
    config = transformers.LlamaConfig(
        vocab_size=100,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        use_cache=False,
        bos_token_id=0,
        eos_token_id=0,
    )
    return transformers.LlamaModel(config).eval()


def get_example_inputs():
    return (torch.randint(0, 100, (2, 12), generator=torch.Generator().manual_seed(0)),)
