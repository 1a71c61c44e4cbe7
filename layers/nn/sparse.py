"""torch.nn.Embedding: a ``weight`` Parameter and one GATHER."""

from .. import dtypes
from ..functional import bags
from ..functional import indexing as F
from ..module import Module, Parameter

__all__ = ["Embedding", "EmbeddingBag"]


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


class EmbeddingBag(Module):
    """torch.nn.EmbeddingBag: a ``weight`` Parameter; each bag of indices reduced (sum, mean,
    max) by F.embedding_bag."""

    def __init__(
        self,
        num_embeddings,
        embedding_dim,
        max_norm=None,
        norm_type=2.0,
        scale_grad_by_freq=False,
        mode="mean",
        sparse=False,
        _weight=None,
        include_last_offset=False,
        padding_idx=None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.mode = mode
        self.include_last_offset = include_last_offset
        self.padding_idx = padding_idx
        self.weight = Parameter((num_embeddings, embedding_dim), dtype or dtypes.float32)

    def forward(self, input, offsets=None, per_sample_weights=None):
        return bags.embedding_bag(
            input,
            self.weight.tensor(),
            offsets,
            self.max_norm,
            self.norm_type,
            mode=self.mode,
            per_sample_weights=per_sample_weights,
            include_last_offset=self.include_last_offset,
            padding_idx=self.padding_idx,
        )
