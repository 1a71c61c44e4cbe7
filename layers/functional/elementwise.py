"""Binary elementwise ops, declared in one table: torch name → TensorRT operation."""

from .. import dtypes
from ..backend import trt
from ..tensor import Tensor
from ._common import align_ranks, network, output
from .cast import cast, promote_pair
from .constant import as_tensor

_OP = trt.ElementWiseOperation

# name, TensorRT op, result is bool (comparison / logical)
_BINARY = [
    ("add", _OP.SUM, False),
    ("sub", _OP.SUB, False),
    ("mul", _OP.PROD, False),
    ("div", _OP.DIV, False),
    ("pow", _OP.POW, False),
    ("maximum", _OP.MAX, False),
    ("minimum", _OP.MIN, False),
    ("floor_divide", _OP.FLOOR_DIV, False),
    ("eq", _OP.EQUAL, True),
    ("gt", _OP.GREATER, True),
    ("lt", _OP.LESS, True),
    ("logical_and", _OP.AND, True),
    ("logical_or", _OP.OR, True),
    ("logical_xor", _OP.XOR, True),
]


def _operands(a, b):
    """Tensors of one dtype and rank; Python scalars take the tensor operand's dtype."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError("at least one operand must be a network Tensor")
    a, b = as_tensor(a, like=b), as_tensor(b, like=a)
    a, b = promote_pair(a, b)
    return align_ranks(a, b)


def elementwise(a, b, operation, op_name):
    a, b = _operands(a, b)
    if operation in (_OP.AND, _OP.OR, _OP.XOR):
        a, b = cast(a, dtypes.bool), cast(b, dtypes.bool)
    return output(network().add_elementwise(a.trt, b.trt, operation), op_name)


def _make(name, operation):
    def op(a, b):
        return elementwise(a, b, operation, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"torch.{name} as one ELEMENTWISE {operation.name} layer (broadcasting)."
    return op


for _name, _operation, _ in _BINARY:
    globals()[_name] = _make(_name, _operation)

__all__ = [name for name, _, _ in _BINARY] + [
    "elementwise", "ne", "ge", "le", "true_divide", "remainder", "where", "clamp",
    "rsub", "sub_scaled", "add_scaled",
]
