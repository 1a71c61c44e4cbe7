"""layers: a PyTorch-like library over the TensorRT network-definition API.

    import layers as nn
    from layers import functional as F

    builder, network = nn.create_network()
    with nn.net_guard(network):
        x = nn.add_input("x", nn.float32, (1, 3, 224, 224))
        nn.mark_output(model(x), "logits")
    engine = nn.build_engine(builder, network)

Importing this package never imports torch.
"""

from . import build_options, functional  # noqa: F401
from .atomic import atomic_write, save_engine  # noqa: F401
from .backend import BACKEND_NAME, IS_RTX, LIBRARY_VERSION, trt  # noqa: F401
from .dtypes import (  # noqa: F401
    bfloat16,
    bool,
    float16,
    float32,
    float8_e4m3fn,
    fp8,
    int4,
    int8,
    int32,
    int64,
    uint8,
)
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential  # noqa: F401
from .network import (  # noqa: F401
    add_input,
    build_engine,
    create_network,
    current_network,
    mark_output,
    name_scope,
    net_guard,
)
from .nn import *  # noqa: F401,F403
from .outputs import ModelOutput  # noqa: F401
from .precision import FP32_OPS, precision  # noqa: F401
from .tensor import Tensor  # noqa: F401

__version__ = "0.1.0"
