"""The op-conformance cases: every op family of torch2trt's converter list and Torch-TensorRT's
ATen converter list, as small modules, traced (``module``), exported (``aten``) and exported
then decomposed to core ATen (``core``), a few with a dynamic dim.
"""

from .case import Case

X4 = "torch.randn(2, 3, 6, 6)"
X3 = "torch.randn(2, 5, 8)"
X2 = "torch.randn(4, 6)"
POS4 = "torch.rand(2, 3, 6, 6) + 0.1"
UNIT4 = "torch.rand(2, 3, 6, 6) * 1.8 - 0.9"
TWO = "x, y"
CAPTURES = ("module", "aten", "core")


def cases(family, table, inputs=(X4,), params="x", init="", captures=CAPTURES, **extra):
    """One case per (name, forward) of ``table`` and per capture."""
    return [
        Case(
            family, name, forward, inputs=inputs, params=params, init=init, capture=capture, **extra
        )
        for name, forward in table.items()
        for capture in captures
    ]


def modules(family, table, inputs=(X4,)):
    """nn.Module cases: ``table`` maps name → constructor source; forward calls it."""
    return [
        Case(family, name, "self.m(x)", inputs=inputs, init=f"self.m = {ctor}")
        for name, ctor in table.items()
    ]


ACTIVATIONS = {
    "relu": "F.relu(x)",
    "relu6": "F.relu6(x)",
    "leaky_relu": "F.leaky_relu(x, 0.2)",
    "elu": "F.elu(x, 0.7)",
    "selu": "F.selu(x)",
    "celu": "F.celu(x, 1.3)",
    "gelu": "F.gelu(x)",
    "gelu_tanh": "F.gelu(x, approximate='tanh')",
    "silu": "F.silu(x)",
    "mish": "F.mish(x)",
    "sigmoid": "torch.sigmoid(x)",
    "hardsigmoid": "F.hardsigmoid(x)",
    "hardswish": "F.hardswish(x)",
    "hardtanh": "F.hardtanh(x, -0.5, 0.5)",
    "softplus": "F.softplus(x, beta=2.0, threshold=5.0)",
    "softsign": "F.softsign(x)",
    "tanh": "torch.tanh(x)",
    "logsigmoid": "F.logsigmoid(x)",
    "threshold": "F.threshold(x, 0.1, 20.0)",
    "softshrink": "F.softshrink(x, 0.5)",
    "hardshrink": "F.hardshrink(x, 0.5)",
    "glu": "F.glu(x, dim=-1)",
    "tanhshrink": "F.tanhshrink(x)",
    "clamp": "torch.clamp(x, -0.5, 0.5)",
    "clamp_min": "x.clamp_min(0.1)",
    "clamp_max": "x.clamp_max(0.1)",
}
ACTIVATION_MODULES = {
    "ReLU": "nn.ReLU()",
    "PReLU": "nn.PReLU(3)",
    "PReLU_single": "nn.PReLU()",
    "ELU": "nn.ELU()",
    "LeakyReLU": "nn.LeakyReLU(0.1)",
    "SELU": "nn.SELU()",
    "GELU": "nn.GELU()",
    "SiLU": "nn.SiLU()",
    "Hardswish": "nn.Hardswish()",
    "Softplus": "nn.Softplus()",
    "Softmax": "nn.Softmax(dim=1)",
    "LogSoftmax": "nn.LogSoftmax(dim=1)",
    "Tanh": "nn.Tanh()",
    "Sigmoid": "nn.Sigmoid()",
    "ReLU6": "nn.ReLU6()",
    "Softsign": "nn.Softsign()",
    "Mish": "nn.Mish()",
}
UNARY = {
    "abs": "torch.abs(x)",
    "neg": "-x",
    "exp": "torch.exp(x)",
    "expm1": "torch.expm1(x)",
    "sin": "torch.sin(x)",
    "cos": "torch.cos(x)",
    "tan": "torch.tan(x)",
    "atan": "torch.atan(x)",
    "sinh": "torch.sinh(x)",
    "cosh": "torch.cosh(x)",
    "asinh": "torch.asinh(x)",
    "ceil": "torch.ceil(x * 3)",
    "floor": "torch.floor(x * 3)",
    "round": "torch.round(x * 3)",
    "trunc": "torch.trunc(x * 3)",
    "sign": "torch.sign(x)",
    "erf": "torch.erf(x)",
    "frac": "torch.frac(x * 3)",
    "square": "torch.square(x)",
    "reciprocal_of_abs": "torch.reciprocal(x.abs() + 0.5)",
}
UNARY_POSITIVE = {
    "log": "torch.log(x)",
    "log2": "torch.log2(x)",
    "log10": "torch.log10(x)",
    "log1p": "torch.log1p(x)",
    "sqrt": "torch.sqrt(x)",
    "rsqrt": "torch.rsqrt(x)",
    "reciprocal": "torch.reciprocal(x)",
    "acosh": "torch.acosh(x + 1)",
    "pow_half": "x ** 0.5",
}
UNARY_UNIT = {"asin": "torch.asin(x)", "acos": "torch.acos(x)", "atanh": "torch.atanh(x)"}
ELEMENTWISE = {
    "add": "x + y",
    "add_alpha": "torch.add(x, y, alpha=2)",
    "sub": "x - y",
    "rsub": "torch.rsub(x, y)",
    "mul": "x * y",
    "div": "x / (y.abs() + 0.5)",
    "pow": "x.abs() ** y",
    "floor_divide": "torch.floor_divide(x * 4, y.abs() + 0.5)",
    "fmod": "torch.fmod(x * 4, y.abs() + 0.5)",
    "remainder": "torch.remainder(x * 4, y.abs() + 0.5)",
    "maximum": "torch.maximum(x, y)",
    "minimum": "torch.minimum(x, y)",
    "eq": "(x.round() == y.round()).float()",
    "ne": "(x.round() != y.round()).float()",
    "lt": "(x < y).float()",
    "le": "(x <= y).float()",
    "gt": "(x > y).float()",
    "ge": "(x >= y).float()",
    "where": "torch.where(x > y, x, y)",
    "logical_and": "torch.logical_and(x > 0, y > 0).float()",
    "logical_or": "torch.logical_or(x > 0, y > 0).float()",
    "logical_xor": "torch.logical_xor(x > 0, y > 0).float()",
    "broadcast": "x + y[:, :1]",
    "max_binary": "torch.max(x, y)",
    "min_binary": "torch.min(x, y)",
}
SCALAR_OPS = {
    "add_scalar": "x + 2",
    "radd": "2 + x",
    "rsub_scalar": "1 - x",
    "mul_scalar": "x * 3",
    "rdiv": "1 / (x.abs() + 1)",
    "div_scalar": "x / 3",
    "pow_scalar": "x ** 2",
    "rpow": "2 ** x",
    "iadd": "return x.clone().add_(1)",
    "where_scalar": "torch.where(x > 0, x, 0.0)",
    "masked_fill": "x.masked_fill(x > 0.5, -1.0)",
    "isnan": "torch.isnan(x).float()",
    "isinf": "torch.isinf(x).float()",
    "logical_not": "(~(x > 0)).float()",
}
REDUCE = {
    "sum": "x.sum()",
    "sum_dim": "torch.sum(x, dim=1)",
    "sum_dims_keepdim": "x.sum((2, 3), keepdim=True)",
    "mean": "x.mean()",
    "mean_dim": "torch.mean(x, dim=-1)",
    "prod": "torch.prod(x, 1)",
    "max_dim": "torch.max(x, 1)[0]",
    "max_dim_indices": "torch.max(x, 1)[1]",
    "min_dim": "torch.min(x, dim=2, keepdim=True).values",
    "max": "x.max()",
    "min": "x.min()",
    "amax": "torch.amax(x, (1, 2))",
    "amin": "torch.amin(x, -1)",
    "argmax": "torch.argmax(x, 1)",
    "argmin": "torch.argmin(x, dim=-1, keepdim=True)",
    "var": "torch.var(x, 1)",
    "var_unbiased_false": "x.var(dim=(2, 3), unbiased=False)",
    "std": "torch.std(x, dim=-1, keepdim=True)",
    "std_all": "x.std()",
    "norm": "torch.norm(x, dim=1)",
    "norm_p1": "x.norm(p=1, dim=-1)",
    "logsumexp": "torch.logsumexp(x, 1)",
    "any": "(x > 1).any(1).float()",
    "all": "(x > -1).all(-1).float()",
    "cumsum": "torch.cumsum(x, 1)",
    "cumprod": "torch.cumprod(x, 2)",
    "softmax": "F.softmax(x, dim=1)",
    "log_softmax": "F.log_softmax(x, dim=-1)",
    "softmax_method": "x.softmax(-1)",
    "normalize": "F.normalize(x, dim=1)",
    "vector_norm": "torch.linalg.vector_norm(x, dim=-1)",
}
SHAPE = {
    "view": "x.view(2, -1)",
    "reshape": "x.reshape(6, 36)",
    "flatten": "torch.flatten(x, 1)",
    "squeeze": "x[:, :1].squeeze(1)",
    "unsqueeze": "x.unsqueeze(1)",
    "permute": "x.permute(0, 2, 3, 1)",
    "transpose": "x.transpose(1, 3)",
    "t": "x[0, 0].t()",
    "expand": "x[:, :1].expand(2, 4, 6, 6)",
    "repeat": "x.repeat(1, 2, 1, 1)",
    "tile": "torch.tile(x, (2, 1))",
    "flip": "torch.flip(x, [1, 3])",
    "roll": "torch.roll(x, 2, 3)",
    "roll_dims": "torch.roll(x, (1, -2), (2, 3))",
    "narrow": "x.narrow(2, 1, 3)",
    "chunk": "torch.cat(x.chunk(3, 1)[::-1], 1)",
    "split": "sum(s.sum() for s in torch.split(x, 2, 2))",
    "split_sizes": "torch.split(x, [1, 2], 1)[1]",
    "unbind": "torch.unbind(x, 1)[2]",
    "stack": "torch.stack([x, x * 2], 1)",
    "cat": "torch.cat([x, x * 2], 2)",
    "movedim": "torch.movedim(x, 1, -1)",
    "unflatten": "x.flatten(2).unflatten(2, (3, 12))",
    "pixel_shuffle": "F.pixel_shuffle(x.repeat(1, 4, 1, 1), 2)",
    "pixel_unshuffle": "F.pixel_unshuffle(x, 2)",
    "channel_shuffle": "F.channel_shuffle(x.repeat(1, 2, 1, 1), 2)",
    "swapaxes": "x.swapaxes(0, 1)",
    "view_as": "x.flatten().view_as(x)",
    "expand_as": "x[:, :1].expand_as(x)",
}
INDEXING = {
    "slice": "x[:, 1:, ::2, -3:]",
    "select": "x[:, 1]",
    "ellipsis": "x[..., 1:3]",
    "none_index": "x[:, None, 0]",
    "negative_step_flip": "x[:, :, 1:5]",
    "index_select": "torch.index_select(x, 1, torch.tensor([2, 0]))",
    "gather": "torch.gather(x, 3, torch.tensor([0, 2, 1, 5]).repeat(2, 3, 6, 1))",
    "tensor_index": "x[:, torch.tensor([2, 0, 1])]",
    "tril": "torch.tril(x)",
    "triu": "torch.triu(x, 1)",
    "take_along_dim": "torch.take_along_dim(x, x.argmax(-1, keepdim=True), -1)",
    "setitem": "return x.clone().index_fill(1, torch.tensor([1]), 0.0)",
    "slice_write": "y = x.clone()\ny[:, 0] = 1.0\nreturn y",
}
MATMUL = {
    "matmul": "x @ y.transpose(-1, -2)",
    "mm": "torch.mm(x[0], y[0].t())",
    "bmm": "torch.bmm(x, y.transpose(1, 2))",
    "addmm": "torch.addmm(y[0, :, :5], x[0], y[0].t()[:, :5] * 1.0)",
    "baddbmm": "torch.baddbmm(x[:, :, :5], x, y.transpose(1, 2)[:, :, :5])",
    "mv": "torch.mv(x[0], y[0, 0])",
    "dot": "torch.dot(x[0, 0], y[0, 0])",
    "outer": "torch.outer(x[0, 0], y[0, 1])",
    "einsum": "torch.einsum('bik,bjk->bij', x, y)",
    "einsum_trace": "torch.einsum('bii->b', x[:, :, :5])",
    "linear": "F.linear(x, y[0], y[0, :, 0])",
}
CONV_MODULES = {
    "Conv1d": ("nn.Conv1d(5, 4, 3, padding=1)", X3),
    "Conv2d": ("nn.Conv2d(3, 4, 3, stride=2, padding=1)", X4),
    "Conv2d_groups_dilation": ("nn.Conv2d(3, 6, 3, groups=3, dilation=2, bias=False)", X4),
    "Conv2d_padding_same": ("nn.Conv2d(3, 4, 3, padding='same')", X4),
    "Conv3d": ("nn.Conv3d(3, 4, 3, padding=1)", "torch.randn(1, 3, 4, 5, 5)"),
    "ConvTranspose1d": ("nn.ConvTranspose1d(5, 3, 3, stride=2)", X3),
    "ConvTranspose2d": ("nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1)", X4),
    "ConvTranspose2d_groups": ("nn.ConvTranspose2d(3, 6, 2, stride=2, groups=3)", X4),
    "ConvTranspose3d": ("nn.ConvTranspose3d(3, 2, 2, stride=2)", "torch.randn(1, 3, 3, 4, 4)"),
    "Linear": ("nn.Linear(6, 5)", X4),
}
POOL = {
    "max_pool1d": ("F.max_pool1d(x, 2)", X3),
    "max_pool2d": ("F.max_pool2d(x, 2)", X4),
    "max_pool2d_stride_pad": ("F.max_pool2d(x, 3, 2, 1)", X4),
    "max_pool2d_ceil": ("F.max_pool2d(x, 3, 2, ceil_mode=True)", X4),
    "max_pool2d_dilation": ("F.max_pool2d(x, 2, 1, dilation=2)", X4),
    "max_pool3d": ("F.max_pool3d(x, 2)", "torch.randn(1, 2, 4, 4, 4)"),
    "avg_pool1d": ("F.avg_pool1d(x, 2)", X3),
    "avg_pool2d": ("F.avg_pool2d(x, 2)", X4),
    "avg_pool2d_pad": ("F.avg_pool2d(x, 3, 2, 1)", X4),
    "avg_pool2d_exclude_pad": ("F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)", X4),
    "avg_pool2d_ceil": ("F.avg_pool2d(x, 2, 2, ceil_mode=True)", "torch.randn(1, 2, 5, 5)"),
    "avg_pool2d_divisor": ("F.avg_pool2d(x, 2, divisor_override=3)", X4),
    "avg_pool3d": ("F.avg_pool3d(x, 2)", "torch.randn(1, 2, 4, 4, 4)"),
    "adaptive_avg_pool1d": ("F.adaptive_avg_pool1d(x, 4)", X3),
    "adaptive_avg_pool2d": ("F.adaptive_avg_pool2d(x, (3, 2))", X4),
    "adaptive_avg_pool2d_1": ("F.adaptive_avg_pool2d(x, 1)", X4),
    "adaptive_avg_pool3d": ("F.adaptive_avg_pool3d(x, 2)", "torch.randn(1, 2, 4, 4, 4)"),
    "adaptive_max_pool1d": ("F.adaptive_max_pool1d(x, 4)", X3),
    "adaptive_max_pool2d": ("F.adaptive_max_pool2d(x, 3)", X4),
    "adaptive_max_pool3d": ("F.adaptive_max_pool3d(x, 2)", "torch.randn(1, 2, 4, 4, 4)"),
    "max_pool2d_indices_values": ("F.max_pool2d(x, 2, return_indices=True)[0]", X4),
    "adaptive_max_pool2d_indices_values": (
        "F.adaptive_max_pool2d(x, 3, return_indices=True)[0]",
        X4,
    ),
}
NORM_MODULES = {
    "BatchNorm1d": ("nn.BatchNorm1d(5)", X3),
    "BatchNorm2d": ("nn.BatchNorm2d(3)", X4),
    "BatchNorm3d": ("nn.BatchNorm3d(3)", "torch.randn(1, 3, 2, 4, 4)"),
    "LayerNorm": ("nn.LayerNorm(6)", X4),
    "LayerNorm_2d": ("nn.LayerNorm([6, 6])", X4),
    "GroupNorm": ("nn.GroupNorm(3, 6)", "torch.randn(2, 6, 4, 4)"),
    "InstanceNorm1d": ("nn.InstanceNorm1d(5)", X3),
    "InstanceNorm2d_affine": ("nn.InstanceNorm2d(3, affine=True)", X4),
    "LocalResponseNorm": ("nn.LocalResponseNorm(2)", X4),
    "LocalResponseNorm_odd": ("nn.LocalResponseNorm(3)", X4),
    "RMSNorm": ("nn.RMSNorm(6)", X4),
    "RMSNorm_2d": ("nn.RMSNorm([6, 6])", X4),
}
NORM_FUNCTIONAL = {
    "batch_norm": ("F.batch_norm(x, self.mean, self.var, self.w, self.b, eps=1e-3)", X4),
    "instance_norm": ("F.instance_norm(x, weight=self.w, bias=self.b)", X4),
    "layer_norm": ("F.layer_norm(x, (6,), self.w6, self.b6)", X4),
    "group_norm": ("F.group_norm(x, 3, self.w, self.b)", X4),
}
NORM_PARAMS = """
self.w = nn.Parameter(torch.rand(3) + 0.5)
self.b = nn.Parameter(torch.randn(3))
self.w6 = nn.Parameter(torch.rand(6) + 0.5)
self.b6 = nn.Parameter(torch.randn(6))
self.register_buffer("mean", torch.randn(3))
self.register_buffer("var", torch.rand(3) + 0.5)
"""
CONV_FUNCTIONAL = {
    "conv1d": ("F.conv1d(x, self.w1, self.b, padding=1)", X3.replace("5", "3", 1)),
    "conv2d": ("F.conv2d(x, self.w2, self.b, stride=2, padding=1)", X4),
    "conv2d_groups": ("F.conv2d(x, self.wg, groups=3, dilation=2)", X4),
    "conv_transpose2d": (
        "F.conv_transpose2d(x, self.wt, stride=2, padding=1, output_padding=1)",
        X4,
    ),
    "conv3d": ("F.conv3d(x, self.w3)", "torch.randn(1, 3, 4, 4, 4)"),
}
CONV_PARAMS = """
self.w1 = nn.Parameter(torch.randn(3, 3, 3))
self.w2 = nn.Parameter(torch.randn(3, 3, 3, 3))
self.wg = nn.Parameter(torch.randn(6, 1, 3, 3))
self.wt = nn.Parameter(torch.randn(3, 2, 3, 3))
self.w3 = nn.Parameter(torch.randn(2, 3, 2, 2, 2))
self.b = nn.Parameter(torch.randn(3))
"""
PAD = {
    "constant": "F.pad(x, (1, 2))",
    "constant_value": "F.pad(x, (1, 1, 2, 0), value=0.5)",
    "constant_negative": "F.pad(x, (-1, 1))",
    "reflect": "F.pad(x, (1, 2, 2, 1), mode='reflect')",
    "replicate": "F.pad(x, (1, 2, 2, 1), mode='replicate')",
    "circular": "F.pad(x, (1, 2, 2, 1), mode='circular')",
    "reflect_1d": "F.pad(x[0], (2, 1), mode='reflect')",
    "replicate_3d": "F.pad(x.unsqueeze(0), (1, 1, 1, 1, 1, 1), mode='replicate')",
}
PAD_MODULES = {
    "ZeroPad2d": "nn.ZeroPad2d((1, 0, 2, 1))",
    "ReflectionPad2d": "nn.ReflectionPad2d(2)",
    "ReplicationPad2d": "nn.ReplicationPad2d(1)",
    "ConstantPad1d": "nn.ConstantPad1d(2, 3.5)",
}
RESIZE = {
    "nearest_scale": "F.interpolate(x, scale_factor=2)",
    "nearest_size": "F.interpolate(x, size=(9, 4))",
    "bilinear": "F.interpolate(x, scale_factor=2, mode='bilinear')",
    "bilinear_align": "F.interpolate(x, size=(8, 10), mode='bilinear', align_corners=True)",
    "bicubic": "F.interpolate(x, scale_factor=2, mode='bicubic')",
    "linear": "F.interpolate(x[0], scale_factor=2, mode='linear')",
    "trilinear": "F.interpolate(x.unsqueeze(0), scale_factor=2, mode='trilinear')",
    "nearest_exact": "F.interpolate(x, scale_factor=2, mode='nearest-exact')",
    "area": "F.interpolate(x, size=(3, 3), mode='area')",
    "upsample_module": "nn.Upsample(scale_factor=2)(x)",
}
CREATION = {
    "zeros_like": "x + torch.zeros_like(x)",
    "ones_like": "x * torch.ones_like(x)",
    "full_like": "x + torch.full_like(x, 2.5)",
    "arange": "x + torch.arange(6)",
    "arange_float": "x * torch.arange(0, 3, 0.5)",
    "tensor_constant": "x * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])",
    "new_zeros": "x.new_zeros(x.shape) + x",
    "zeros": "torch.zeros(2, 3, 6, 6) + x",
    "full": "x + torch.full((6,), 3.0)",
    "cast_int": "x.mul(3).int().float()",
    "cast_half_roundtrip": "x.to(torch.float16).float()",
    "type_as": "(x > 0).type_as(x)",
}
SORT = {
    "sort_values": "torch.sort(x, dim=-1).values",
    "sort_descending_indices": "torch.sort(x, 1, descending=True)[1]",
    "argsort": "torch.argsort(x, dim=2)",
    "topk_values": "torch.topk(x, 2, dim=-1)[0]",
    "topk_smallest_indices": "torch.topk(x, 3, dim=1, largest=False).indices",
    "msort": "torch.msort(x)",
    "kthvalue": "torch.kthvalue(x, 2, dim=-1).values",
}
WRITES = {
    "index_copy": "x.index_copy(1, torch.tensor([2, 0]), x[:, :2] * 2)",
    "slice_scatter": "torch.slice_scatter(x, x[:, :, :2] * 3, 2, 1, 3)",
    "select_scatter": "torch.select_scatter(x, x[:, 0] * 2, 1, 2)",
    "setitem_slice": "y = x.clone()\ny[:, 1:, ::2] = 0.5\nreturn y",
    "setitem_tensor": "y = x.clone()\ny[:, 1] = x[:, 2] * 2\nreturn y",
    "masked_fill_tensor": "x.masked_fill(x < 0, 0.0) + x.masked_fill(x > 0, 1.0)",
}
SCALARS = {
    "numel": "x / x.numel()",
    "size_arith": "x.reshape(x.size(0) * x.size(1), -1)",
    "scalar_tensor": "x + torch.scalar_tensor(2.5)",
    "clone_detach": "x.clone().detach() * 2",
    "contiguous": "x.transpose(1, 2).contiguous()",
    "sum_dtype": "x.sum(1, dtype=torch.float32)",
    "prelu": "F.prelu(x, torch.tensor([0.1, 0.2, 0.3]))",
}
ATTENTION = {
    "sdpa": ("F.scaled_dot_product_attention(x, x, x)", (X3,)),
    "sdpa_causal": ("F.scaled_dot_product_attention(x, x, x, is_causal=True)", (X3,)),
    "sdpa_mask": (
        "F.scaled_dot_product_attention(x, x, x, attn_mask=(x[..., :5] > 0).transpose(-1, -2) & (x[..., :5] > 0))",
        ("torch.randn(2, 5, 5)",),
    ),
}


def _all_cases():
    found = []
    found += cases("activation", ACTIVATIONS)
    found += modules("activation", ACTIVATION_MODULES)
    found += cases("unary", UNARY)
    found += cases("unary", UNARY_POSITIVE, inputs=(POS4,))
    found += cases("unary", UNARY_UNIT, inputs=(UNIT4,))
    found += cases("elementwise", ELEMENTWISE, inputs=(X4, X4), params=TWO)
    found += cases("elementwise", SCALAR_OPS)
    found += cases("reduce", REDUCE)
    found += cases("shape", SHAPE)
    found += cases("indexing", INDEXING)
    found += cases("matmul", MATMUL, inputs=(X3, X3), params=TWO)
    found += [
        Case("conv", name, "self.m(x)", inputs=(x,), init=f"self.m = {ctor}")
        for name, (ctor, x) in CONV_MODULES.items()
    ]
    found += [
        Case("conv", n, f, inputs=(x,), init=CONV_PARAMS, capture=c)
        for n, (f, x) in CONV_FUNCTIONAL.items()
        for c in ("module", "aten", "core")
    ]
    found += [
        Case("pool", n, f, inputs=(x,), capture=c)
        for n, (f, x) in POOL.items()
        for c in ("module", "aten", "core")
    ]
    found += [
        Case("normalization", name, "self.m(x)", inputs=(x,), init=f"self.m = {ctor}")
        for name, (ctor, x) in NORM_MODULES.items()
    ]
    found += [
        Case("normalization", n, f, inputs=(x,), init=NORM_PARAMS, capture=c)
        for n, (f, x) in NORM_FUNCTIONAL.items()
        for c in ("module", "aten", "core")
    ]
    found += cases("pad", PAD, captures=("module", "aten", "core"))
    found += modules("pad", PAD_MODULES)
    found += cases("resize", RESIZE)
    found += cases("creation", CREATION)
    found += cases("sort", SORT)
    found += cases("indexing", WRITES, captures=("module", "aten", "core"))
    found += cases("scalar", SCALARS)
    found += [
        Case("attention", n, f, inputs=x, capture=c)
        for n, (f, x) in ATTENTION.items()
        for c in CAPTURES
    ]
    found += MISC
    found += DYNAMIC
    found += REFUSED
    found += PIPELINE_AND_NEW_OPS
    return found


BILINEAR_PARAMS = (
    "self.w = nn.Parameter(torch.randn(3, 6, 6))\nself.b = nn.Parameter(torch.randn(3))"
)

MISC = [
    *[
        Case(
            "conv",
            "bilinear",
            "F.bilinear(x, y, self.w, self.b)",
            inputs=(X2, X2),
            params=TWO,
            init=BILINEAR_PARAMS,
            capture=capture,
        )
        for capture in CAPTURES
    ],
    Case(
        "embedding",
        "Embedding",
        "self.m(x)",
        inputs=("torch.randint(0, 10, (2, 5))",),
        init="self.m = nn.Embedding(10, 4)",
    ),
    Case(
        "embedding",
        "embedding",
        "F.embedding(x, self.w)",
        inputs=("torch.randint(0, 10, (2, 5))",),
        init="self.w = nn.Parameter(torch.randn(10, 4))",
    ),
    Case(
        "embedding",
        "embedding",
        "F.embedding(x, self.w)",
        inputs=("torch.randint(0, 10, (2, 5))",),
        init="self.w = nn.Parameter(torch.randn(10, 4))",
        capture="aten",
    ),
    Case(
        "embedding",
        "embedding",
        "F.embedding(x, self.w)",
        inputs=("torch.randint(0, 10, (2, 5))",),
        init="self.w = nn.Parameter(torch.randn(10, 4))",
        capture="core",
    ),
    Case(
        "attention",
        "MultiheadAttention",
        "self.m(x, x, x)[0]",
        inputs=(X3,),
        init="self.m = nn.MultiheadAttention(8, 2, batch_first=True)",
    ),
    Case(
        "attention",
        "TransformerEncoderLayer",
        "self.m(x)",
        inputs=(X3,),
        init="self.m = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)",
    ),
    Case(
        "dropout",
        "dropout",
        "F.dropout(x, 0.3, training=False) + nn.functional.dropout2d(x, 0.2, False)",
    ),
    Case("dropout", "Dropout", "self.m(x)", init="self.m = nn.Dropout(0.5)"),
    Case("dropout", "dropout", "return F.dropout(x, 0.3, training=self.training)", capture="core"),
    Case(
        "container",
        "Sequential",
        "self.m(x)",
        init="self.m = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4), nn.ReLU())",
    ),
    Case(
        "container",
        "Unflatten_square",
        "self.m(x)",
        init="self.m = nn.Sequential(nn.Flatten(2), nn.Unflatten(2, (6, 6)))",
    ),
    Case(
        "conv",
        "Bilinear",
        "self.m(x, y)",
        inputs=(X2, X2),
        params=TWO,
        init="self.m = nn.Bilinear(6, 6, 3)",
    ),
    Case(
        "distance",
        "pairwise_distance",
        "F.pairwise_distance(x, y, p=1.0)",
        inputs=(X2, X2),
        params=TWO,
        capture="aten",
    ),
    Case(
        "distance",
        "cosine_similarity",
        "F.cosine_similarity(x, y, dim=-1)",
        inputs=(X3, X3),
        params=TWO,
        capture="aten",
    ),
    Case(
        "container",
        "Flatten_Identity",
        "self.m(x)",
        init="self.m = nn.Sequential(nn.Identity(), nn.Flatten(), nn.Unflatten(1, (3, 36)))",
    ),
    Case("quant", "fake_quantize", "torch.fake_quantize_per_tensor_affine(x, 0.05, 0, -128, 127)"),
]

# --dynamic: a dim kept symbolic, checked at another size inside the profile
DYNAMIC = [
    Case(
        "dynamic",
        "conv_relu_pool",
        "F.max_pool2d(F.relu(self.m(x)), 2)",
        init="self.m = nn.Conv2d(3, 4, 3, padding=1)",
        dynamic=("x:0=1:2:4",),
        shapes=({"x": (3, 3, 6, 6)},),
    ),
    Case(
        "dynamic",
        "layer_norm_linear",
        "self.fc(self.ln(x)).softmax(-1)",
        inputs=(X3,),
        init="self.ln = nn.LayerNorm(8)\nself.fc = nn.Linear(8, 4)",
        dynamic=("x:1=2:5:9",),
        shapes=({"x": (2, 7, 8)},),
    ),
    Case(
        "dynamic",
        "reshape_flatten",
        "x.flatten(1).reshape(x.size(0), -1, 2).sum(-1)",
        dynamic=("x:0=1:2:4",),
        shapes=({"x": (4, 3, 6, 6)},),
    ),
    Case(
        "dynamic",
        "interpolate_cat",
        "torch.cat([x, F.interpolate(x, scale_factor=2)[..., ::2, ::2]], 1)",
        dynamic=("x:0=1:2:4",),
        shapes=({"x": (1, 3, 6, 6)},),
    ),
    Case(
        "dynamic",
        "attention_length",
        "F.scaled_dot_product_attention(x, x, x, is_causal=True)",
        inputs=(X3,),
        dynamic=("x:1=2:5:9",),
        shapes=({"x": (2, 8, 8)},),
    ),
    Case(
        "dynamic",
        "batch_norm",
        "F.batch_norm(x, self.mean, self.var, self.w, self.b)",
        init=NORM_PARAMS,
        capture="aten",
        dynamic=("x:0=1:2:4",),
        shapes=({"x": (3, 3, 6, 6)},),
    ),
    Case(
        "dynamic",
        "avg_pool_embedding_free",
        "F.avg_pool2d(x, 2) + F.adaptive_avg_pool2d(x, 3)",
        capture="aten",
        dynamic=("x:0=1:2:4",),
        shapes=({"x": (4, 3, 6, 6)},),
    ),
    Case(
        "dynamic",
        "layer_norm",
        "F.layer_norm(x, (8,))",
        inputs=(X3,),
        capture="core",
        dynamic=("x:1=2:5:9",),
        shapes=({"x": (2, 3, 8)},),
    ),
]

DYNAMIC += [
    Case(
        "dynamic",
        "embedding_length",
        "F.embedding(x, self.w).sum(1)",
        inputs=("torch.randint(0, 10, (2, 5))",),
        init="self.w = nn.Parameter(torch.randn(10, 4))",
        capture="aten",
        dynamic=("x:1=2:5:9",),
        shapes=({"x": (2, 8)},),
    ),
    Case(
        "dynamic",
        "conv_pad_core",
        "F.conv2d(F.pad(x, (1, 1, 1, 1), mode='reflect'), self.w2, self.b)",
        init=CONV_PARAMS,
        capture="core",
        dynamic=("x:0=1:2:4",),
        shapes=({"x": (3, 3, 6, 6)},),
    ),
]

# data-dependent output shapes: refused at generation, naming the op and the line
REFUSED = [
    Case(
        "data_dependent", "where_condition_only", "torch.where(x > 0)[0].float()", refused="where"
    ),
    Case(
        "data_dependent",
        "where_condition_only",
        "torch.where(x > 0)[0].float()",
        capture="aten",
        refused="where",
    ),
    Case(
        "data_dependent",
        "masked_select",
        "torch.masked_select(x, x > 0)",
        capture="aten",
        refused="masked_select",
    ),
    Case("data_dependent", "nonzero", "torch.nonzero(x > 0).float()", refused="nonzero"),
    Case(
        "data_dependent",
        "nonzero",
        "torch.nonzero(x > 0).float()",
        capture="aten",
        refused="nonzero",
    ),
    Case("data_dependent", "boolean_mask", "x[x > 0]", refused="boolean_mask_index"),
    Case(
        "data_dependent", "masked_select", "torch.masked_select(x, x > 0)", refused="masked_select"
    ),
    Case("data_dependent", "unique", "torch.unique(x.round())", refused="unique"),
    Case(
        "data_dependent",
        "repeat_interleave_tensor",
        "x.repeat_interleave(torch.tensor([1, 2, 3]), dim=1)",
        refused="repeat_interleave",
    ),
]

CENTERNET_HEADS = """
self.body = nn.Conv2d(3, 4, 3, padding=1)
self.hm = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
self.wh = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
self.reg = nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 1))
"""
C2F_INIT = """
class Bottleneck(nn.Module):
    def __init__(self):
        super().__init__()
        self.cv = nn.Conv2d(2, 2, 3, padding=1)
    def forward(self, x):
        return x + F.silu(self.cv(x))
self.cv1 = nn.Conv2d(3, 4, 1)
self.m = nn.ModuleList(Bottleneck() for _ in range(2))
"""
C2F_FORWARD = (
    "y = list(self.cv1(x).chunk(2, 1))\ny.extend(m(y[-1]) for m in self.m)\nreturn torch.cat(y, 1)"
)

# recurrent layers, the newer ops, and outputs, parameter names and checks that once went wrong
PIPELINE_AND_NEW_OPS = [
    Case(
        "recurrent",
        "LSTM",
        "self.m(x)[0]",
        inputs=(X3,),
        init="self.m = nn.LSTM(8, 6, num_layers=2, batch_first=True)",
    ),
    Case(
        "recurrent",
        "LSTM_bidirectional_states",
        "self.m(x, (torch.zeros(2, 5, 6), torch.ones(2, 5, 6)))[1][0]",
        inputs=(X3,),
        init="self.m = nn.LSTM(8, 6, bidirectional=True)",
    ),
    Case(
        "recurrent",
        "GRU",
        "self.m(x)[0]",
        inputs=(X3,),
        init="self.m = nn.GRU(8, 6, batch_first=True, bidirectional=True)",
    ),
    Case(
        "recurrent",
        "RNN",
        "self.m(x)[1]",
        inputs=(X3,),
        init="self.m = nn.RNN(8, 6, num_layers=2, nonlinearity='relu')",
    ),
    Case("distance", "cdist", "torch.cdist(x, y)", inputs=(X3, X3), params=TWO),
    Case(
        "distance", "cdist", "torch.cdist(x, y, p=1.0)", inputs=(X3, X3), params=TWO, capture="aten"
    ),
    Case("distance", "pdist", "F.pdist(x)", inputs=(X2,)),
    Case("distance", "pairwise_distance", "F.pairwise_distance(x, y)", inputs=(X2, X2), params=TWO),
    Case(
        "distance",
        "cosine_similarity",
        "F.cosine_similarity(x, y, dim=1)",
        inputs=(X2, X2),
        params=TWO,
    ),
    Case(
        "grid_sample",
        "bilinear",
        "F.grid_sample(x, y, align_corners=False)",
        inputs=(X4, "torch.rand(2, 4, 5, 2) * 2 - 1"),
        params=TWO,
    ),
    Case(
        "grid_sample",
        "nearest_border",
        "F.grid_sample(x, y, mode='nearest', padding_mode='border', align_corners=True)",
        inputs=(X4, "torch.rand(2, 4, 5, 2) * 2.4 - 1.2"),
        params=TWO,
    ),
    Case(
        "grid_sample",
        "bicubic_reflection",
        "F.grid_sample(x, y, mode='bicubic', padding_mode='reflection', align_corners=False)",
        inputs=(X4, "torch.rand(2, 4, 5, 2) * 2.4 - 1.2"),
        params=TWO,
        capture="aten",
    ),
    Case("elementwise", "atan2", "torch.atan2(x, y)", inputs=(X4, X4), params=TWO),
    Case("elementwise", "atan2", "torch.atan2(x, y)", inputs=(X4, X4), params=TWO, capture="aten"),
    Case(
        "bitwise",
        "and_or_xor",
        "(x & y) | (x ^ 3)",
        inputs=("torch.randint(0, 16, (2, 5))", "torch.randint(0, 16, (2, 5))"),
        params=TWO,
    ),
    Case(
        "bitwise",
        "not_shift",
        "(~x) + (x << 1) + (y >> 1)",
        inputs=("torch.randint(0, 16, (2, 5))", "torch.randint(0, 16, (2, 5))"),
        params=TWO,
    ),
    Case(
        "bitwise",
        "bitwise_and",
        "torch.bitwise_and(x, y)",
        inputs=("torch.randint(0, 16, (2, 5))", "torch.randint(0, 16, (2, 5))"),
        params=TWO,
        capture="aten",
    ),
    Case(
        "scatter",
        "scatter",
        "x.scatter(1, torch.tensor([[0, 2], [1, 0]]), y[:, :2])",
        inputs=(X2, X2),
        params=TWO,
    ),
    Case(
        "scatter",
        "scatter_add",
        "x.scatter_add(1, torch.tensor([[0, 0], [1, 1]]), y[:2, :2])",
        inputs=(X2, X2),
        params=TWO,
    ),
    Case(
        "scatter",
        "scatter_reduce",
        "x.scatter_reduce(1, torch.tensor([[0, 0], [1, 1]]), y[:2, :2], 'amax')",
        inputs=(X2, X2),
        params=TWO,
    ),
    Case(
        "scatter",
        "scatter_add",
        "x.scatter_add(1, torch.tensor([[0, 0], [1, 1]]), y[:2, :2])",
        inputs=(X2, X2),
        params=TWO,
        capture="aten",
    ),
    Case("indexing", "diagonal", "torch.diagonal(x, 0, 2, 3)"),
    Case("indexing", "diagonal_offset", "x.diagonal(1)", inputs=(X2,), capture="aten"),
    Case("indexing", "as_strided", "torch.as_strided(x, (3, 2), (2, 1), 1)", inputs=(X2,)),
    Case(
        "indexing",
        "index_put_accumulate",
        "x.index_put((torch.tensor([0, 1, 0]),), y[:3], accumulate=True)",
        inputs=(X2, X2),
        params=TWO,
    ),
    Case(
        "embedding",
        "embedding_bag",
        "F.embedding_bag(x, self.w, torch.tensor([0, 2]), mode='mean')",
        inputs=("torch.randint(0, 10, (5,))",),
        init="self.w = nn.Parameter(torch.randn(10, 4))",
    ),
    Case(
        "embedding",
        "EmbeddingBag",
        "self.m(x)",
        inputs=("torch.randint(0, 10, (2, 3))",),
        init="self.m = nn.EmbeddingBag(10, 4, mode='sum')",
    ),
    Case(
        "matmul",
        "linalg_cross",
        "torch.linalg.cross(x[..., :3], y[..., :3])",
        inputs=(X2, X2),
        params=TWO,
    ),
    Case(
        "resize",
        "bilinear_align_fractional",
        "F.interpolate(x, scale_factor=1.5, mode='bilinear', align_corners=True)",
    ),
    Case(
        "resize",
        "bicubic_align_fractional",
        "F.interpolate(x, scale_factor=1.7, mode='bicubic', align_corners=True)",
    ),
    Case(
        "pipeline",
        "parameter_named_input",
        "torch.relu(input) * F",
        inputs=(X4, X4),
        params="input, F",
    ),
    Case(
        "pipeline",
        "parameters_named_builtins",
        "model + network * weights",
        inputs=(X2, X2, X2),
        params="model, network, weights",
    ),
    Case(
        "pipeline",
        "dict_outputs_named_like_modules",
        "{'hm': self.hm(x), 'wh': self.wh(x)}",
        init="self.hm = nn.Conv2d(3, 2, 1)\nself.wh = nn.Conv2d(3, 2, 1)",
    ),
    Case(
        "pipeline",
        "modulelist_in_generator",
        "y = [x]\ny.extend(m(y[-1]) for m in self.m)\nreturn torch.cat(y, 1)",
        init="self.m = nn.ModuleList(nn.Conv2d(3, 3, 1) for _ in range(2))",
    ),
    Case("pipeline", "output_is_input", "x"),
    Case("pipeline", "output_is_clone_of_input", "x.clone()"),
    Case("pipeline", "output_twice", "y = x * 2\nreturn y, y"),
    Case(
        "pipeline", "identity_permute_and_split", "x.permute(0, 1, 2, 3), torch.split(x, 3, 1)[0]"
    ),
    Case("pipeline", "star_args", "args[0] + args[1]", inputs=(X4, X4), params="*args"),
    Case(
        "pipeline",
        "dict_heads_like_centernet",
        "y = self.body(x)\nreturn {'hm': self.hm(y), 'wh': self.wh(y), 'reg': self.reg(y)}",
        init=CENTERNET_HEADS,
    ),
    Case(
        "pipeline",
        "dict_heads_like_centernet",
        "y = self.body(x)\nreturn {'hm': self.hm(y), 'wh': self.wh(y), 'reg': self.reg(y)}",
        init=CENTERNET_HEADS,
        capture="aten",
    ),
    Case("pipeline", "c2f_generator_over_blocks", C2F_FORWARD, init=C2F_INIT),
    Case("pipeline", "c2f_generator_over_blocks", C2F_FORWARD, init=C2F_INIT, capture="aten"),
    Case(
        "pipeline",
        "parameters_reordered_names",
        "x * 2 + input - weights",
        inputs=(X4, X4, X4),
        params="x, input, weights",
    ),
    Case(
        "pipeline",
        "parameters_reordered_names",
        "x * 2 + input - weights",
        inputs=(X4, X4, X4),
        params="x, input, weights",
        capture="aten",
    ),
    Case("check", "inplace_input", "x += y\nreturn x", inputs=(X4, X4), params=TWO),
    Case("check", "nan_from_log", "torch.log(x)"),
    Case("check", "nan_from_sqrt_asin", "torch.sqrt(x) + torch.asin(x)"),
    Case(
        "check",
        "half_parameters",
        "self.m(x.half()).float()",
        init="self.m = nn.Conv2d(3, 4, 3).half()",
    ),
]

# ops trtgen does not convert yet: refused at generation, the message naming the op and the line
NOT_CONVERTED = {}  # family-name (every capture) → the op the refusal names


def _expected(case):
    import dataclasses

    if f"{case.family}-{case.name}" in NOT_CONVERTED:
        case = dataclasses.replace(case, refused=NOT_CONVERTED[f"{case.family}-{case.name}"])
    return case


ALL = [_expected(case) for case in _all_cases()]
