"""The built-in lowerings, registered explicitly in ``rules.REGISTRY``.

Each op family lists the canonical op names written as the ``layers.functional`` function (or
``layers.Tensor`` method) of the same name, with the model's own arguments. Operators,
identities and no-ops are written differently and have rules of their own kind. Validators
refuse, at generation, the argument combinations the layers raise on when the network is
built: the refusal names the argument and why (``max_norm=1.0: ...``).
"""

import inspect
import math

import torch

from layers import dtypes

from .rules import Rule, register

_INFIX = {
    "add": "+",
    "sub": "-",
    "mul": "*",
    "div": "/",
    "floordiv": "//",
    "remainder": "%",
    "pow": "**",
    "matmul": "@",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "and": "&",
    "or": "|",
    "xor": "^",
    "lshift": "<<",
    "rshift": ">>",
}
_PREFIX = {"neg": "-", "pos": "+", "invert": "~"}
# ops that are the identity in an inference network
_ALIAS = (
    "dropout",
    "dropout1d",
    "dropout2d",
    "dropout3d",
    "alpha_dropout",
    "feature_alpha_dropout",
    "detach",
    "clone",
    "contiguous",
    "cpu",
    "cuda",
    "requires_grad",
    "lift_fresh_copy",
    "alias",
    "stochastic_depth",
)
# ops with no meaning in a network
_DROP = (
    "drop",
    "assert",
    "_assert_async",
    "sym_constrain_range_for_size",
    "_assert_scalar",
    "_assert_tensor_metadata",
)

# layers.functional calls, by the module that defines them
FUNCTIONAL = {
    "activation": """
        celu elu gelu glu hardshrink hardsigmoid hardswish hardtanh leaky_relu log_softmax
        logsigmoid mish prelu relu relu6 selu sigmoid silu softmax softmin softplus
        softshrink softsign tanh tanhshrink threshold
    """,
    "attention": "multi_head_attention_forward scaled_dot_product_attention",
    "bags": "embedding_bag",
    "bitwise": """
        bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift bitwise_xor
    """,
    "cast": "cast type_as",
    "constant": """
        arange as_tensor fill full full_like new_full new_ones new_zeros ones ones_like
        zeros zeros_like
    """,
    "conv": "conv1d conv2d conv3d conv_transpose1d conv_transpose2d conv_transpose3d unfold",
    "distance": "cdist pdist",
    "elementwise": """
        addcdiv addcmul clamp clamp_max clamp_min fmod ger logical_and logical_or logical_xor
        maximum minimum outer rsub where
    """,
    "indexing": """
        copy diff embedding gather index index_add index_copy index_fill index_put
        index_select masked_fill masked_scatter narrow select select_scatter slice_scatter
        slice_tensor take take_along_dim tril triu
    """,
    "join": "cat chunk hstack split stack unbind vstack",
    "linear": "addmm baddbmm bilinear bmm dot einsum linear mm mv",
    "normalization": """
        batch_norm group_norm instance_norm layer_norm local_response_norm normalize
        rms_norm weight_norm
    """,
    "pad": "pad",
    "pool": """
        adaptive_avg_pool1d adaptive_avg_pool2d adaptive_avg_pool3d adaptive_max_pool1d
        adaptive_max_pool2d adaptive_max_pool3d avg_pool1d avg_pool2d avg_pool3d max_pool1d
        max_pool2d max_pool3d
    """,
    "qdq": "dequantize fake_quantize quantize",
    "recurrent": "gru gru_cell lstm lstm_cell rnn_relu rnn_relu_cell rnn_tanh rnn_tanh_cell",
    "reduce": """
        all amax amin any argmax argmin argsort cumprod cumsum kthvalue logsumexp max mean
        min msort norm prod sort std std_mean sum topk var var_mean vector_norm
    """,
    "resize": """
        channel_shuffle interpolate native_channel_shuffle pixel_shuffle pixel_unshuffle
        upsample upsample_bilinear upsample_nearest
    """,
    "sampling": "grid_sample",
    "scatter": "scatter scatter_add scatter_reduce",
    "shape": """
        broadcast_to expand expand_as flatten flip fliplr flipud movedim numel permute repeat
        repeat_interleave reshape reshape_as roll size squeeze t tile transpose unflatten
        unsqueeze view view_as
    """,
    "similarity": "cosine_similarity pairwise_distance",
    "unary": """
        abs acos acosh arccos arcsin asin asinh atan atan2 atanh ceil cos cosh erf exp exp2
        expm1 fix floor frac isinf isnan log log10 log1p log2 logical_not reciprocal round
        rsqrt sign sin sinh sqrt square tan trunc
    """,
    "vector": "cross linalg_cross",
    "views": "as_strided diag diag_embed diagonal diagonal_scatter fill_diagonal",
}
# layers.Tensor methods with no layers.functional function of the same name
TENSOR_METHODS = "bool dim float half int is_floating_point long to"


# --------------------------------------------------------------------------- validators


def _argument(op, function, name, default=None):
    """The value ``op`` passes for parameter ``name`` of the layers ``function``."""
    if name in op.kwargs:
        return op.kwargs[name]
    try:
        params = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return default
    index = params.index(name) if name in params else None
    if index is not None and index < len(op.args):
        return op.args[index]
    return default


def _dtype_of(value):
    """The dtype an fx node's recorded value has, or None when unknown."""
    meta = getattr(value, "meta", None) or {}
    val = meta.get("val", meta.get("tensor_meta"))
    return getattr(val, "dtype", None)


def _values(value):
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from _values(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    else:
        yield value


def _unsupported_dtype(op):
    """A dtype argument TensorRT has no tensors of (float64, complex)."""
    for key, value in [(None, a) for a in op.args] + list(op.kwargs.items()):
        for item in _values(value):
            if isinstance(item, torch.dtype):
                try:
                    dtypes.to_trt(item)
                except TypeError:
                    shown = str(item).replace("torch.", "")
                    return f"{key or 'dtype'}={item}: TensorRT has no {shown} tensors"
    return None


def _writes_out(op):
    if op.kwargs.get("out") is not None:
        return "out=...: a network writes no result into an existing tensor"
    return None


_COMMON = (_writes_out, _unsupported_dtype)


def _checked(*validators):
    """One validator: the first refusal among the common checks and ``validators``."""

    def validate(op):
        for validator in _COMMON + validators:
            reason = validator(op)
            if reason is not None:
                return reason
        return None

    return validate


def _function(name):
    from layers import functional

    return getattr(functional, name)


def _max_norm(name):
    def validate(op):
        max_norm = _argument(op, _function(name), "max_norm")
        if max_norm is not None:
            return (
                f"max_norm={max_norm}: torch renormalizes the weight rows in place; "
                "a built network cannot"
            )
        return None

    return validate


def _per_sample_weights(op):
    function = _function("embedding_bag")
    weights = _argument(op, function, "per_sample_weights")
    mode = _argument(op, function, "mode", "mean")
    if weights is not None and mode != "sum":
        return f"per_sample_weights with mode={mode!r}: only mode='sum' weighs the samples"
    return None


def _return_indices(name):
    def validate(op):
        if _argument(op, _function(name), "return_indices", False):
            return "return_indices=True: TensorRT pooling has no indices output"
        return None

    return validate


def _antialias(op):
    if _argument(op, _function("interpolate"), "antialias", False):
        return "antialias=True: TensorRT's resize does not filter before sampling"
    return None


def _order(value, name):
    if isinstance(value, str):
        return None if value == "fro" else f"{name}={value!r}: only vector norms (and 'fro') lower"
    if isinstance(value, (int, float)) and value <= 0 and value != -math.inf:
        return f"{name}={value!r}: only inf, -inf and orders > 0 lower"
    return None


def _vector_norm(op):
    return _order(_argument(op, _function("vector_norm"), "ord", 2), "ord")


def _norm(op):
    return _order(_argument(op, _function("norm"), "p", "fro"), "p")


def _integer_cumprod(op):
    if _argument(op, _function("cumprod"), "dtype") is not None:
        return None  # accumulates in the dtype asked for
    dtype = _dtype_of(op.args[0]) if op.args else None
    if dtype is not None and not (dtype.is_floating_point or dtype.is_complex):
        return (
            f"an {str(dtype).replace('torch.', '')} input: TensorRT accumulates sums only, "
            "and a float route would not be exact"
        )
    return None


def _einsum_ellipsis(op):
    equation = op.args[0] if op.args else op.kwargs.get("equation")
    if isinstance(equation, str) and "..." in equation:
        return f"equation {equation!r}: TensorRT's Einsum has no ellipsis ('...')"
    return None


def _topk(op):
    from layers.functional.reduce import MAX_TOPK_K

    k = _argument(op, _function("topk"), "k")
    if isinstance(k, torch.fx.Node):
        return "k computed at run time: TensorRT's TopK needs k when the engine is built"
    if isinstance(k, int) and k > MAX_TOPK_K:
        return f"k={k}: TensorRT's TopK takes at most {MAX_TOPK_K} elements per axis"
    return None


def _static_kv(op):
    function = _function("multi_head_attention_forward")
    given = [n for n in ("static_k", "static_v") if _argument(op, function, n) is not None]
    if given:
        return f"{' and '.join(given)}: precomputed keys / values are not supported"
    return None


def _runtime_arange(op):
    function = _function("arange")
    start, end = _argument(op, function, "start"), _argument(op, function, "end")
    step = _argument(op, function, "step", 1)
    if end is None:
        start, end = 0, start
    if isinstance(end, torch.fx.Node) and (not isinstance(start, int) or step != 1):
        return "a run-time end with a start that is not an int or a step other than 1"
    return None


VALIDATORS = {
    "embedding": (_max_norm("embedding"),),
    "embedding_bag": (_max_norm("embedding_bag"), _per_sample_weights),
    "interpolate": (_antialias,),
    **{f"max_pool{n}d": (_return_indices(f"max_pool{n}d"),) for n in (1, 2, 3)},
    **{f"adaptive_max_pool{n}d": (_return_indices(f"adaptive_max_pool{n}d"),) for n in (1, 2, 3)},
    "vector_norm": (_vector_norm,),
    "norm": (_norm,),
    "cumprod": (_integer_cumprod,),
    "einsum": (_einsum_ellipsis,),
    "topk": (_topk,),
    "multi_head_attention_forward": (_static_kv,),
    "arange": (_runtime_arange,),
}


# --------------------------------------------------------------------------- the table

for _name, _symbol in _INFIX.items():
    register(Rule(_name, "infix", _symbol, target=f"operator {_symbol}", validator=_checked()))
for _name, _symbol in _PREFIX.items():
    register(Rule(_name, "prefix", _symbol, target=f"operator {_symbol}"))
register(Rule("alias", "alias", ops=_ALIAS))
register(Rule("drop", "drop", ops=_DROP))
register(Rule("getitem", "getitem", target="subscript"))
register(Rule("getattr", "getattr", target="attribute"))
_CALLS = [(name, "F") for names in FUNCTIONAL.values() for name in names.split()]
for _name, _spelling in _CALLS + [(name, "Tensor") for name in TENSOR_METHODS.split()]:
    _validator = _checked(*VALIDATORS.get(_name, ()))
    register(Rule(_name, "call", target=f"{_spelling}.{_name}", validator=_validator))
