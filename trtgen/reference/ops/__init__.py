"""Op handlers, one module per layer family; importing this package registers them all."""

from . import (  # noqa: F401
    activation,
    attention,
    control,
    conv,
    elementwise,
    fill,
    gather,
    matmul,
    nms,
    normalization,
    pooling,
    quant,
    reduce,
    resize,
    sequence,
    shuffle,
    slice,
    tensor,
    unary,
)
