"""ATen ops (torch.export's spelling) onto the ``layers.functional`` call of the same meaning.

An aten op reaches a lowering only through this registry, never by its name alone: many aten
schemas differ from the torch.nn.functional function of the same name (``aten.embedding`` takes
the weight first, ``aten.batch_norm`` the affine parameters before the running statistics,
``aten.avg_pool2d``'s ``stride=[]`` means "the kernel size"). Each adapter binds the op's real
schema (``op._schema``) and maps its arguments; ops whose schema *is* the functional's, position
for position, are listed in ``SAME_SIGNATURE`` and keep their arguments. Any other aten op is
refused at generation under its full name (``aten.native_batch_norm.default``).
"""

import dataclasses
from typing import Callable

import torch

from . import data_dependent
from .op import Op


@dataclasses.dataclass(frozen=True)
class Adapter:
    lower: Callable  # bound arguments {schema name: value} → Op
    first_result_only: bool = False  # the op returns a tuple; the lowering computes its item 0


ADAPTERS = {}  # "packet" or "packet.overload" → Adapter


def adapter(*names, first_result_only=False):
    def register(function):
        for name in names:
            ADAPTERS[name] = Adapter(function, first_result_only)
        return function

    return register


def is_aten(target):
    """An aten op, as export records it (``aten.add.Tensor``) or as a model may call it
    (``torch.ops.aten.add``, an overload packet)."""
    if isinstance(target, torch._ops.OpOverloadPacket):
        return target._qualified_op_name.startswith("aten::")
    return isinstance(target, torch._ops.OpOverload) and target.namespace == "aten"


def resolve(target, args, kwargs):
    """The overload a packet call (``torch.ops.aten.add(x, 1)``) runs: the first whose schema
    takes these arguments, ``default`` first; an overload is itself."""
    if not isinstance(target, torch._ops.OpOverloadPacket):
        return target
    names = sorted(target.overloads(), key=lambda name: name != "default")
    overloads = [getattr(target, name) for name in names]
    for overload in overloads:
        try:
            bind(overload, args, kwargs, strict=True)
        except TypeError:
            continue
        return overload
    return overloads[0]


def full_name(target):
    """``aten.batch_norm.default``: how a refusal names the op."""
    return f"aten.{target._overloadpacket.__name__}.{target._overloadname}"


def bind(target, args, kwargs, strict=False):
    """{argument name: value} for every argument of the op's schema, defaults filled in;
    ``strict``: also refuse more positional arguments, or other keywords, than it takes."""
    arguments = target._schema.arguments
    if strict and (
        len(args) > sum(not a.kwarg_only for a in arguments)
        or set(kwargs) - {a.name for a in arguments}
    ):
        raise TypeError(f"{full_name(target)} takes other arguments")
    bound = {}
    for index, argument in enumerate(arguments):
        if index < len(args) and not argument.kwarg_only:
            bound[argument.name] = args[index]
        elif argument.name in kwargs:
            bound[argument.name] = kwargs[argument.name]
        elif argument.has_default_value():
            bound[argument.name] = argument.default_value
        else:
            raise TypeError(f"{full_name(target)}: no value for {argument.name!r}")
    return bound


def _packet(target):
    name = target._overloadpacket.__name__
    # in-place variants share the functional one's arguments (relu_ is relu)
    return name[:-1] if name.endswith("_") and not name.startswith("_") else name


def find(target):
    """The ``Adapter`` of an aten op, or None when its schema is not known to match anything."""
    packet = _packet(target)
    return (
        ADAPTERS.get(f"{packet}.{target._overloadname}")
        or ADAPTERS.get(packet)
        or (_SAME if packet in SAME_SIGNATURE else None)
    )


def lower(node, canonical):
    """The ``Op`` of an aten call node; ``canonical`` turns a packet name into trtgen's op name.

    An op with no adapter becomes an op named after the aten overload, which no rule lowers: it
    is reported with the other unsupported ops, with where the model calls it."""
    target = resolve(node.target, node.args, node.kwargs)
    found = find(target)
    packet = canonical(target._overloadpacket.__name__)
    if found is None and packet in data_dependent.REASONS:  # refused with the reason
        return Op(packet, tuple(node.args), dict(node.kwargs), False)
    if found is None:
        return Op(full_name(target), tuple(node.args), dict(node.kwargs), False)
    if found is _SAME:
        return Op(packet, tuple(node.args), dict(node.kwargs), False)
    return found.lower(bind(target, node.args, node.kwargs), target)


def tuple_item(source, index):
    """``getitem(source, index)`` where ``source`` is an aten op lowered to its first result
    only: that result itself (index 0), or an op no rule lowers (the statistics of a
    ``native_layer_norm``, the indices of a ``max_pool2d_with_indices``)."""
    if not is_aten(getattr(source, "target", None)):
        return None
    target = resolve(source.target, source.args, source.kwargs)
    found = find(target)
    if found is None or found is _SAME or not found.first_result_only:
        return None
    if index == 0:
        return Op("alias", (source,), {}, False)
    return Op(f"{full_name(target)} result {index}", (source,), {}, False)


_SAME = Adapter(lambda bound, target: None)

# aten ops whose schema takes the same arguments, in the same order, as the layers function or
# Tensor method trtgen lowers them to (checked by tests/trtgen/test_aten_adapters.py);
# keyword-only device/layout arguments are dropped by normalize
SAME_SIGNATURE = frozenset("""
    abs absolute acos acosh adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d
    adaptive_max_pool1d adaptive_max_pool2d adaptive_max_pool3d add addmm alias all amax amin
    any arccos arcsin arctan argmax argmin argsort as_strided asin asinh atan atan2 atanh
    baddbmm bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift
    bitwise_xor bmm broadcast_to cat ceil celu channel_shuffle chunk clamp clamp_max clamp_min
    cdist clip clone concat concatenate contiguous conv1d conv2d conv3d conv_transpose1d cross
    conv_transpose2d conv_transpose3d copy cos cosh cumprod cumsum detach diag diag_embed diagonal
    diagonal_scatter diff div dot
    empty empty_like eq erf exp exp2 expand_as expm1 fill fix flatten flip fliplr flipud floor
    floor_divide fmod frac full full_like gather ge gelu glu gt hardshrink hardsigmoid hardswish
    hardtanh hstack index index_add index_copy index_fill index_put index_select isinf isnan
    le leaky_relu lift_fresh_copy linalg_cross masked_scatter pdist take linalg_vector_norm linear log log10 log1p log2
    log_sigmoid logical_and logical_not logical_or logical_xor logsumexp lt masked_fill matmul
    max maximum mean min minimum mish mm movedim moveaxis mul mv narrow ne neg new_empty
    new_full new_ones new_zeros norm numel ones ones_like outer pad permute pixel_shuffle
    pixel_unshuffle pow prelu prod reciprocal relu relu6 remainder repeat reshape roll round
    rsqrt rsub scatter scatter_add scatter_reduce select select_scatter selu sigmoid
    sign silu sin sinh size slice slice_scatter softplus softshrink sort split split_with_sizes
    sqrt square squeeze stack std std_mean sub sum swapaxes swapdims sym_numel sym_size t take_along_dim
    tan tanh threshold tile topk transpose tril triu trunc type_as unbind unflatten
    unsqueeze var var_mean view view_as vstack where zero zeros zeros_like
    _to_copy _assert_async _assert_scalar _assert_tensor_metadata _unsafe_index_put
    sym_constrain_range_for_size im2col upsample_nearest1d upsample_nearest2d upsample_nearest3d
    _upsample_nearest_exact1d _upsample_nearest_exact2d _upsample_nearest_exact3d
    upsample_linear1d upsample_bilinear2d upsample_bicubic2d upsample_trilinear3d
    scaled_dot_product_attention rms_norm unfold arange logit rand_like randn_like
    __and__ __or__ __xor__ __lshift__ __rshift__ __invert__
    cosine_similarity pairwise_distance kthvalue msort index_copy cumprod bilinear
    repeat_interleave _weight_norm dequantize ger native_channel_shuffle reshape_as to
    greater greater_equal less less_equal negative not_equal true_divide multiply divide subtract
    """.split())


def _op(name, *args, **kwargs):
    """``F.name(*args, **kwargs)`` without the arguments that equal the layers function's
    defaults (trailing positional ones, and keywords), so the call reads like the model's."""
    defaults = _defaults(name)
    args = list(args)
    while len(args) > 1 and _is_default(args[-1], defaults.get(len(args) - 1)):
        args.pop()
    names = list(defaults.get("names", ()))
    kwargs = {
        k: v
        for k, v in kwargs.items()
        if not _is_default(v, defaults.get(names.index(k) if k in names else k))
    }
    return Op(name, tuple(args), kwargs, False)


_NO_DEFAULT = object()


def _defaults(name):
    """{position: default} and {"names": parameter names} of ``layers.functional.<name>``."""
    import inspect

    from layers import functional

    function = getattr(functional, name, None)
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return {}
    found = {i: p.default for i, p in enumerate(params) if p.default is not inspect.Parameter.empty}
    found["names"] = [p.name for p in params]
    return found


def _is_default(value, default=_NO_DEFAULT):
    if (
        isinstance(value, (list, tuple))
        and isinstance(default, int)
        and not isinstance(default, bool)
    ):
        return len(value) > 0 and all(v == default for v in value)  # stride [1, 1] is stride=1
    if isinstance(value, (list, tuple)) and isinstance(default, (list, tuple)):
        return list(value) == list(default)
    if value is None or default is None:
        return value is default
    literal = isinstance(value, (bool, int, float, str))
    return literal and type(value) is type(default) and value == default


def _refused(target, why):
    return _op(f"{full_name(target)} ({why})")


@adapter("batch_norm")
@adapter("native_batch_norm", "_native_batch_norm_legit_no_training", first_result_only=True)
def _batch_norm(a, target):  # the no_training overload has no ``training`` argument
    return _op(
        "batch_norm",
        a["input"],
        a["running_mean"],
        a["running_var"],
        a["weight"],
        a["bias"],
        a.get("training", False),
        a["momentum"],
        a["eps"],
    )


@adapter("instance_norm")
def _instance_norm(a, target):
    return _op(
        "instance_norm",
        a["input"],
        a["running_mean"],
        a["running_var"],
        a["weight"],
        a["bias"],
        a["use_input_stats"],
        a["momentum"],
        a["eps"],
    )


@adapter("layer_norm")
def _layer_norm(a, target):
    return _op("layer_norm", a["input"], a["normalized_shape"], a["weight"], a["bias"], a["eps"])


@adapter("native_layer_norm", first_result_only=True)
def _native_layer_norm(a, target):
    return _layer_norm(a, target)


@adapter("group_norm")
def _group_norm(a, target):
    return _op("group_norm", a["input"], a["num_groups"], a["weight"], a["bias"], a["eps"])


@adapter("native_group_norm", first_result_only=True)
def _native_group_norm(a, target):
    return _op("group_norm", a["input"], a["group"], a["weight"], a["bias"], a["eps"])


@adapter("embedding")
def _embedding(a, target):
    return _op("embedding", a["indices"], a["weight"])  # padding_idx only matters in training


def _kernel_stride(a):
    """aten pooling's ``stride=[]`` means "the kernel size"."""
    return a["stride"] if a["stride"] else a["kernel_size"]


@adapter("avg_pool1d", "avg_pool2d", "avg_pool3d")
def _avg_pool(a, target):
    name = target._overloadpacket.__name__
    kwargs = dict(
        padding=a["padding"],
        ceil_mode=a["ceil_mode"],
        count_include_pad=a["count_include_pad"],
        divisor_override=a.get("divisor_override"),
    )
    return _op(name, a["self"], a["kernel_size"], _kernel_stride(a), **kwargs)


def _max_pool(a, target):
    name = target._overloadpacket.__name__.replace("_with_indices", "")
    return _op(
        name,
        a["self"],
        a["kernel_size"],
        _kernel_stride(a),
        padding=a["padding"],
        dilation=a["dilation"],
        ceil_mode=a["ceil_mode"],
    )


adapter("max_pool1d", "max_pool2d", "max_pool3d")(_max_pool)
adapter(
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "max_pool3d_with_indices",
    first_result_only=True,
)(_max_pool)


@adapter("convolution", "_convolution")
def _convolution(a, target):
    dims = len(a["stride"])
    common = dict(
        stride=a["stride"], padding=a["padding"], dilation=a["dilation"], groups=a["groups"]
    )
    if a["transposed"]:
        return _op(
            f"conv_transpose{dims}d",
            a["input"],
            a["weight"],
            a["bias"],
            output_padding=a["output_padding"],
            **common,
        )
    if any(p != 0 for p in a["output_padding"]):
        return _refused(target, "output_padding on a convolution that is not transposed")
    return _op(f"conv{dims}d", a["input"], a["weight"], a["bias"], **common)


@adapter("dropout", "feature_dropout", "alpha_dropout", "feature_alpha_dropout")
def _dropout(a, target):
    if a["train"]:
        return _refused(target, "train=True: random in every run")
    return _op("alias", a["input"])


@adapter("native_dropout", first_result_only=True)
def _native_dropout(a, target):
    if a["train"] is not False:  # None means "the module's mode", and export records training
        return _refused(target, "train=True: random in every run")
    return _op("alias", a["input"])


@adapter("constant_pad_nd")
def _constant_pad(a, target):
    return _op("pad", a["self"], a["pad"], "constant", a["value"])


def _mode_pad(mode):
    def lower(a, target):
        return _op("pad", a["self"], a["padding"] if "padding" in a else a["pad"], mode)

    return lower


for _dims in (1, 2, 3):
    adapter(f"reflection_pad{_dims}d")(_mode_pad("reflect"))
    adapter(f"replication_pad{_dims}d")(_mode_pad("replicate"))
adapter("_pad_circular")(_mode_pad("circular"))


@adapter("softmax.int", "log_softmax.int")
def _softmax(a, target):
    kwargs = {"dtype": a["dtype"]} if a["dtype"] is not None else {}
    return _op(target._overloadpacket.__name__, a["self"], a["dim"], **kwargs)


@adapter("_softmax", "_log_softmax")
def _softmax_half(a, target):  # half_to_float: a CUDA kernel detail
    return _op(target._overloadpacket.__name__[1:], a["self"], a["dim"])


@adapter("elu")
def _elu(a, target):
    if a["scale"] != 1 or a["input_scale"] != 1:
        return _refused(target, "scale or input_scale other than 1")
    return _op("elu", a["self"], a["alpha"])


@adapter("var.default", "std.default", "var_mean.default", "std_mean.default")
def _var_unbiased(a, target):  # var(x, unbiased): no dims
    return _op(target._overloadpacket.__name__, a["self"], unbiased=a["unbiased"])


@adapter("max.other", "min.other")
def _binary_extreme(a, target):
    return _op(
        {"max": "maximum", "min": "minimum"}[target._overloadpacket.__name__], a["self"], a["other"]
    )


@adapter(
    "add.Tensor",
    "add.Scalar",
    "sub.Tensor",
    "sub.Scalar",
    "rsub.Tensor",
    "rsub.Scalar",
    "subtract.Tensor",
    "subtract.Scalar",
)
def _with_alpha(a, target):  # alpha as a keyword: the infix rule reads it only there
    kwargs = {"alpha": a["alpha"]} if a["alpha"] != 1 else {}
    name = target._overloadpacket.__name__.replace("subtract", "sub")
    return Op(name, (a["self"], a["other"]), kwargs, False)


@adapter(
    "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", first_result_only=True
)
def _adaptive_max_pool(a, target):  # aten returns (values, indices); F's returns values alone
    return _op(target._overloadpacket.__name__, a["self"], a["output_size"])


@adapter("scalar_tensor")
def _scalar_tensor(a, target):  # a 0-d constant, float32 unless told
    return _op("full", [], a["s"], dtype=a["dtype"] or torch.float32)


@adapter("expand")
def _expand(a, target):  # implicit: autograd bookkeeping
    return _op("expand", a["self"], a["size"])


@adapter("einsum")
def _einsum(a, target):
    return _op("einsum", a["equation"], *a["tensors"])


@adapter("grid_sampler", "grid_sampler_2d", "grid_sampler_3d")
def _grid_sampler(a, target):
    modes = {0: "bilinear", 1: "nearest", 2: "bicubic"}
    paddings = {0: "zeros", 1: "border", 2: "reflection"}
    return _op(
        "grid_sample",
        a["input"],
        a["grid"],
        mode=modes[a["interpolation_mode"]],
        padding_mode=paddings[a["padding_mode"]],
        align_corners=a["align_corners"],
    )


@adapter("_index_put_impl_")
def _index_put_impl(a, target):  # ``unsafe`` means nothing in a network
    return _op("index_put", a["self"], a["indices"], a["values"], a["accumulate"])


@adapter("_cdist_forward")
def _cdist(a, target):
    return _op("cdist", a["x1"], a["x2"], a["p"], a["compute_mode"])


@adapter("_pdist_forward")
def _pdist(a, target):
    return _op("pdist", a["self"], a["p"])


@adapter("_prelu_kernel")
def _prelu(a, target):
    return _op("prelu", a["self"], a["weight"])


@adapter("_reshape_copy", "_unsafe_view")
def _reshape(a, target):
    return _op("reshape", a["self"], a["size"])


@adapter("mm.dtype", "bmm.dtype", "addmm.dtype", "baddbmm.dtype")
def _out_dtype(a, target):
    return _refused(target, "out_dtype")


@adapter("where.default")
def _where_nonzero(a, target):  # where(condition) alone is nonzero(condition, as_tuple=True)
    return Op(data_dependent.WHERE_INDICES, (a["condition"],), {}, False)


@adapter("repeat_interleave.Tensor")
def _repeat_counts(a, target):
    return Op(data_dependent.REPEATS_TENSOR, (a["repeats"],), {}, False)


_BAG_MODES = ("sum", "mean", "max")  # aten's numbers for F.embedding_bag's modes


@adapter("embedding_bag", "_embedding_bag", "_embedding_bag_forward_only", first_result_only=True)
def _embedding_bag(a, target):
    """Weight first and the mode as a number; a negative padding_idx means none (F.embedding_bag
    has already made a negative one positive). Of the four results models read the first."""
    padding_idx = a.get("padding_idx")
    return _op(
        "embedding_bag",
        a["indices"],
        a["weight"],
        a["offsets"],
        mode=_BAG_MODES[a["mode"]],
        per_sample_weights=a["per_sample_weights"],
        include_last_offset=a["include_last_offset"],
        padding_idx=None if padding_idx is None or padding_idx < 0 else padding_idx,
    )
