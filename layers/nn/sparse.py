"""torch.nn.Embedding: a ``weight`` Parameter and one GATHER."""

from .. import dtypes
from ..functional import indexing as F
from ..module import Module, Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        padding_idx=None,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        sparse=False,
        _weight=None,
        _freeze=False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.weight = Parameter((num_embeddings, embedding_dim), dtype or dtypes.float32)

    def forward(self, input):
        return F.embedding(
            input, self.weight.tensor(), self.padding_idx, self.max_norm, self.norm_type
        )
