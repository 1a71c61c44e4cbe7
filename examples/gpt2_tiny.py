"""A tiny GPT-2 (transformers, random weights): a decoder stack written as a loop, Conv1D
projections, a padded attention mask that the network reads."""

import torch
import transformers


class GPT2(torch.nn.Module):
    """The last hidden state of GPT2Model for token ids and their attention mask."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state


def get_model():
    config = transformers.GPT2Config(
        vocab_size=100,
        n_embd=64,
        n_layer=2,
        n_head=4,
        n_positions=64,
        use_cache=False,
        bos_token_id=0,
        eos_token_id=0,
    )
    return GPT2(transformers.GPT2Model(config)).eval()


def get_example_inputs():
    mask = torch.ones(2, 12, dtype=torch.int64)
    mask[1, 9:] = 0  # a padded second sequence: with an all-ones mask transformers drops it
    input_ids = torch.randint(0, 100, (2, 12), generator=torch.Generator().manual_seed(0))
    return input_ids, mask
