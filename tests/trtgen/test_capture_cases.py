"""Model shapes that once broke capture or lowering: each generates and matches PyTorch."""

import textwrap

import pytest

from trtgen.commands.check import check
from trtgen.commands.cli import main

CASES = {
    # a child's tensor parameter it never reads stays in its signature (callers pass it)
    "unused_parameter": """
        class Emb(nn.Module):
            def __init__(self):
                super().__init__()
                self.e = nn.Embedding(10, 8)
            def forward(self, ids, token_type_ids=None):
                return self.e(ids).float()

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = Emb()
            def forward(self, ids):
                return self.emb(ids, torch.zeros_like(ids))

        INPUTS = (torch.randint(0, 10, (2, 5)),)
    """,
    # torch.div with a rounding mode is not `/`
    "div_rounding_mode": """
        class M(nn.Module):
            def forward(self, x, y):
                return torch.div(x, y, rounding_mode="floor") + torch.sub(x, y, alpha=2)

        INPUTS = (torch.randn(3, 4) * 5, torch.rand(3, 4) + 0.5)
    """,
    # export keeps the call's keyword order; callers pass the child's signature order
    "export_keyword_order": """
        class Att(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(8, 8)
            def forward(self, x, bias=None, scale=None):
                if x.size(0) > 0:  # Python control flow on a shape: captured with torch.export
                    pass
                return self.lin(x).type_as(x) * scale + bias

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.att = Att()
            def forward(self, x):
                return self.att(x, scale=x.sigmoid(), bias=x.cos())

        INPUTS = (torch.randn(2, 8),)
    """,
    # export flattens a list parameter into x_0, x_1
    "export_list_parameter": """
        class Fuse(nn.Module):
            def __init__(self):
                super().__init__()
                self.branches = nn.ModuleList([nn.Conv2d(4, 4, 1), nn.Conv2d(4, 4, 1)])
            def forward(self, x):
                for i, branch in enumerate(self.branches):
                    x[i] = branch(x[i])  # list item assignment: captured with torch.export
                return x[0] + x[1]

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fuse = Fuse()
            def forward(self, a):
                return self.fuse([a, a * 2])

        INPUTS = (torch.randn(1, 4, 8, 8),)
    """,
    # a ModelOutput field the child did not set reads as None, as in transformers
    "model_output_unset_field": """
        from transformers.modeling_outputs import BaseModelOutput

        class Enc(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(8, 8)
            def forward(self, x):
                return BaseModelOutput(last_hidden_state=self.lin(x))

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.enc = Enc()
            def forward(self, x):
                out = self.enc(x)
                extra = out.hidden_states
                return out[0] if extra is None else out[0] + 1

        INPUTS = (torch.randn(2, 4, 8),)
    """,
    # an exported parent passes a tuple of tensors to a child (rotary cos/sin)
    "export_tuple_argument": """
        class Att(nn.Module):
            def __init__(self):
                super().__init__()
                self.q = nn.Linear(8, 8)
            def forward(self, x, position_embeddings=None):
                cos, sin = position_embeddings
                return self.q(x) * cos + sin

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.att = Att()
            def forward(self, x):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                return self.att(x, position_embeddings=(x.cos(), x.sin()))

        INPUTS = (torch.randn(2, 8),)
    """,
    # tensors passed through **kwargs are inputs of their own
    "tensor_keyword_arguments": """
        class Att(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(8, 8)
            def forward(self, x, **kwargs):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                return self.lin(x) + kwargs["pos"]

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.att = Att()
            def forward(self, x):
                return self.att(x, pos=x.cos())

        INPUTS = (torch.randn(2, 8),)
    """,
    # an exported child called twice is one dispatcher in its parent's export, not a graph
    "export_shared_child": """
        class Shared(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(8, 8)
            def forward(self, x):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                return torch.tanh(self.lin(x))

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.shared = Shared()
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                return self.shared(self.shared(x) + 1)

        INPUTS = (torch.randn(2, 8),)
    """,
    # the parent's export traced another call of the child than the eager run recorded
    # (transformers builds masks under tracing that eager runs skip)
    "export_traces_another_call": """
        class Att(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(8, 8)
            def forward(self, x, mask=None):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                y = self.lin(x)
                return y if mask is None else y.masked_fill(mask, 0.0)

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.att = Att()
            def forward(self, x):
                if x.size(0) > 0:
                    pass
                mask = (x > 0) if torch.compiler.is_exporting() else None
                return self.att(x, mask=mask)

        INPUTS = (torch.randn(2, 8),)
    """,
    # torch.export spells F.interpolate as aten.upsample_<mode>.vec, torch.split as
    # split_with_sizes (SegFormer's decode head)
    "export_resize_and_split": """
        import torch.nn.functional as F

        class M(nn.Module):
            def forward(self, x):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                a = F.interpolate(x, size=(8, 8), mode="bilinear", align_corners=False)
                b = F.interpolate(x, scale_factor=2, mode="nearest")
                c = F.interpolate(x, size=(6, 6), mode="bicubic", align_corners=True)
                d = F.interpolate(x, size=(3, 2), mode="area")  # adaptive average pooling
                first, rest = torch.split(x, [1, 2], dim=1)
                return a * b, c, first - rest.sum(1, keepdim=True), d

        INPUTS = (torch.randn(1, 3, 4, 4),)
    """,
    # in eval mode TransformerEncoderLayer takes a fused fast path when it runs, so its children
    # are never seen called; its export calls self_attn with query, key, value and keywords,
    # which must keep their order (a key padding mask made float by the layer)
    "export_encoder_layer_with_padding_mask": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True)
            def forward(self, x, mask):
                return self.layer(x, src_key_padding_mask=mask)

        INPUTS = (torch.randn(2, 5, 16), torch.tensor([[False] * 5, [False] * 3 + [True] * 2]))
    """,
    # autocast regions that change nothing on the CPU (disabled, or for CUDA) leave the export
    # as plain ops (timm's EfficientViT keeps its attention in FP32 this way)
    "export_autocast_regions": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 8)
            def forward(self, x):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                with torch.autocast(device_type="cpu", enabled=False):
                    y = self.fc(x).softmax(-1)
                with torch.autocast(device_type="cuda", dtype=torch.float16):
                    z = y @ y.transpose(0, 1)
                return z

        INPUTS = (torch.randn(3, 8),)
    """,
    "resize_area": """
        import torch.nn.functional as F

        class M(nn.Module):
            def forward(self, x):
                return F.interpolate(x, scale_factor=0.5, mode="area") + F.interpolate(
                    x[..., :3], size=(2, 1), mode="area"
                ).sum()

        INPUTS = (torch.randn(2, 3, 5, 4),)
    """,
    # `y[:, 0] = 0` cannot be traced by fx (a Proxy takes no item assignment): torch.export
    # writes it as select + fill + select_scatter
    "export_int_index_write": """
        class M(nn.Module):
            def forward(self, x):
                y = x * 2
                y[:, 0] = 0
                y[..., -1] = x[..., 0]
                return y

        INPUTS = (torch.randn(2, 4, 3),)
    """,
    # an augmented assignment into a slice: slice + mul + slice_scatter (and an aten.copy)
    "export_slice_augmented_assignment": """
        class M(nn.Module):
            def forward(self, x):
                y = x + 1
                y[:, :2] *= 0.5
                y[:, 1::2] += 3  # a step: spread by a GATHER, kept by a SELECT
                return y

        INPUTS = (torch.randn(2, 5, 3),)
    """,
    # transformers' shift_tokens_right (BART, mBART, T5-style decoders) on int64 token ids
    "export_shift_tokens_right": """
        def shift_tokens_right(input_ids, pad_token_id, decoder_start_token_id):
            shifted = input_ids.new_zeros(input_ids.shape)
            shifted[:, 1:] = input_ids[:, :-1].clone()
            shifted[:, 0] = decoder_start_token_id
            shifted.masked_fill_(shifted == -100, pad_token_id)
            return shifted

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(10, 8)
            def forward(self, ids):
                shifted = shift_tokens_right(ids, 1, 2)
                return self.emb(shifted), shifted

        INPUTS = (torch.tensor([[3, 4, -100, 5, 6], [7, -100, 8, 9, 2]]),)
    """,
    # writes through a mask and integer indices: aten.index_put
    "export_index_put": """
        class M(nn.Module):
            def forward(self, x, idx):
                y = x.clone()
                y[y < 0] = 0
                y[:, [0, 2]] = x[:, :2] * 3
                y[:, idx] += 1.0
                return y

        INPUTS = (torch.randn(2, 5, 3), torch.tensor([4, 1]))
    """,
    # several integer indices at adjacent dims: one ScatterND
    "export_index_put_two_indices": """
        class M(nn.Module):
            def forward(self, x, rows, cols):
                y = x.clone()
                y[:, rows, cols] = x[:, :2, 0] * 2
                return y

        INPUTS = (torch.randn(2, 5, 3), torch.tensor([4, 1]), torch.tensor([2, -3]))
    """,
    # in-place methods on whole tensors stay in the fx graph, each a new value
    "fx_inplace_methods": """
        class M(nn.Module):
            def forward(self, x):
                z = torch.zeros_like(x)
                z.copy_(x[:1])
                z.index_put_((torch.tensor([0, 2]),), x[1] + 1)
                z.masked_fill_(z > 1, 1.0)
                return z + torch.empty_like(x).fill_(2.0)

        INPUTS = (torch.randn(3, 4),)
    """,
    # fx traces a write into a view (`y[:, :2].mul_(..)`) but its graph loses it: the replay
    # without aliasing tells, and torch.export captures the module
    "fx_write_into_a_view": """
        class M(nn.Module):
            def forward(self, x):
                y = x * 2
                y[:, :2].mul_(0.5)
                y.select(1, 3).fill_(0)
                return y

        INPUTS = (torch.randn(3, 4),)
    """,
    # torch.fx rebuilds a GraphModule's submodule paths from bare nn.Module holders
    "fx_graph_module": """
        from torch.fx.experimental.optimization import fuse

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 4, 3, padding=1)
                self.bn = nn.BatchNorm2d(4)
            def forward(self, x):
                return torch.relu(self.bn(self.conv(x))) + x

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.blocks = nn.Sequential(Block(), Block())
            def forward(self, x):
                return self.blocks(x)

        def M():
            return fuse(Net().eval())  # conv+bn folded; blocks.0.conv lives in bare Modules

        INPUTS = (torch.randn(1, 4, 8, 8),)
    """,
    # an in-place write, then views: functionalization replays the views with no module stack,
    # which torch.export.unflatten cannot place ("not enough values to unpack")
    "export_views_after_inplace_write": """
        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 3, 1)
            def forward(self, x):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                x = x.clone()
                x.add_(1)
                y = self.conv(x).clone()
                y.mul_(2)
                return y.permute(0, 2, 3, 1).flatten(1, 2).transpose(1, 2), x[:, 1:].unsqueeze(0)

        INPUTS = (torch.randn(2, 3, 4, 5),)
    """,
    # sorting, flipping, masking and shuffling ops, as symbolic_trace and torch.export spell them
    "sort_flip_mask_shuffle": """
        import torch.nn.functional as F

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(8, 16)
                self.shuffle = nn.ChannelShuffle(2)
            def forward(self, x):
                h = F.glu(self.proj(x), -1)
                values, indices = torch.topk(h, 3, dim=-1)
                order = torch.sort(h, dim=1, descending=True)
                scores = torch.tril(h @ h.transpose(1, 2), diagonal=-1) + h[..., :4].triu(1)
                repeated = values.flip(-1).repeat_interleave(2, dim=1)
                shuffled = self.shuffle(x.unsqueeze(-1)).squeeze(-1) * torch.outer(x[0, 0, :4], x[1, 1])
                patches = F.unfold(x.unsqueeze(1), 2, padding=1) + h.argsort(dim=-1).sum()
                windows = x.unfold(-1, 4, 2)
                return values, indices, order.values, order.indices[:, 0], scores, repeated, shuffled, patches, windows

        INPUTS = (torch.randn(2, 4, 8),)
    """,
    "export_sort_flip_mask_shuffle": """
        import torch.nn.functional as F

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = nn.Linear(8, 16)
                self.shuffle = nn.ChannelShuffle(2)
            def forward(self, x):
                if x.size(0) > 0:  # captured with torch.export
                    pass
                h = F.glu(self.proj(x), -1)
                values, indices = torch.topk(h, 3, dim=-1, largest=False)
                scores = torch.tril(h @ h.transpose(1, 2)) + torch.sort(h[..., :4], dim=-1).values
                repeated = values.flip(0, 2).repeat_interleave(2)
                shuffled = self.shuffle(x.unsqueeze(-1)).squeeze(-1) * torch.outer(x[0, 0, :4], x[1, 1])
                patches = F.unfold(x.unsqueeze(1), (2, 3), stride=2)
                windows = x.unfold(1, 2, 1)
                return indices, scores, repeated, shuffled, patches, windows

        INPUTS = (torch.randn(2, 4, 8),)
    """,
    # timm's Affine (ResMLP): torch.addcmul with a parameter first; a Tensor.addcdiv method
    "addcmul_addcdiv": """
        class Affine(nn.Module):
            def __init__(self, dim):
                super().__init__()
                self.alpha = nn.Parameter(torch.rand(1, 1, dim) + 0.5)
                self.beta = nn.Parameter(torch.randn(1, 1, dim))
            def forward(self, x):
                return torch.addcmul(self.beta, self.alpha, x)

        class M(nn.Module):
            def __init__(self):
                super().__init__()
                self.affine = Affine(8)
            def forward(self, x):
                return self.affine(x).addcdiv(x, x.abs() + 1, value=0.5)

        INPUTS = (torch.randn(2, 5, 8),)
    """,
}

HEADER = "import torch\nfrom torch import nn\n"
FOOTER = "\n\ndef get_model():\n    torch.manual_seed(0)\n    return M().eval()\n\n\ndef get_example_inputs():\n    torch.manual_seed(1)\n    return INPUTS\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_generates_and_matches(tmp_path, name):
    model = tmp_path / f"{name}.py"
    model.write_text(HEADER + textwrap.dedent(CASES[name]) + FOOTER)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 0
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


NESTED_EXPORTS = """
    class Inner(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(8, 8)
        def forward(self, x, scale=None):
            if x.size(0) > 0:  # Python control flow on a shape: captured with torch.export
                pass
            return self.lin(x) * scale

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Inner()
            self.norm = nn.LayerNorm(8)
        def forward(self, x):
            if x.size(0) > 0:
                pass
            return self.norm(x + self.inner(x, scale=x.sigmoid()))

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Block(), Block()])
        def forward(self, x):
            if x.size(0) > 0:
                pass
            for block in self.blocks:
                x = block(x)
            return x

    INPUTS = (torch.randn(3, 8),)
"""


def test_nested_exports_reuse_the_outermost_one(tmp_path, monkeypatch):
    """Modules that need torch.export inside one that does are cut from its export: one
    torch.export call in all, and identical siblings still read as one class."""
    import torch

    exports = []
    real_export = torch.export.export

    def counted(*args, **kwargs):
        exports.append(type(args[0]).__name__)
        return real_export(*args, **kwargs)

    monkeypatch.setattr(torch.export, "export", counted)
    model = tmp_path / "nested.py"
    model.write_text(HEADER + textwrap.dedent(NESTED_EXPORTS) + FOOTER)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out)]) == 0
    assert exports == ["M"]
    network = (out / "network.py").read_text()
    assert '"""PyTorch: nested.Block (2 instances)"""' in network
    assert '"""PyTorch: nested.Inner (2 instances)"""' in network
    lines = []
    assert check(str(out), log=lines.append), "\n".join(lines)


SHIFT_WITH_A_DYNAMIC_LENGTH = """
    class M(nn.Module):
        def forward(self, ids):
            shifted = ids.new_zeros(ids.shape)  # a run-time shape: a broadcast zero
            shifted[:, 1:] = ids[:, :-1].clone()  # slice_scatter along the dynamic dim
            shifted[:, 0] = 2
            shifted[:, -1] += 1
            return shifted.masked_fill_(shifted == -100, 1)

    INPUTS = (torch.tensor([[3, 4, -100, 5, 6], [7, -100, 8, 9, 2]]),)
"""


@pytest.mark.parametrize("length", [5, 11])
def test_shift_tokens_right_with_a_dynamic_length(tmp_path, length):
    model = tmp_path / "shift.py"
    model.write_text(HEADER + textwrap.dedent(SHIFT_WITH_A_DYNAMIC_LENGTH) + FOOTER)
    out = tmp_path / "out"
    assert main([str(model), "-o", str(out), "--dynamic", "ids:1=2:5:16"]) == 0
    assert "[2, 5]" not in (out / "network.py").read_text()  # no example length baked in
    lines = []
    assert check(str(out), log=lines.append, shapes={"ids": (2, length)}), "\n".join(lines)
