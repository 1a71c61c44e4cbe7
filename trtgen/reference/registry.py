"""Layer-type registry: downcast table and the handler registry filled by ``@handles``.

A handler is ``fn(layer, inputs, ctx) -> Tensor | sequence of Tensors``:
``layer`` is already downcast (``IConvolutionLayer`` ...), ``inputs`` lists the layer's inputs as
torch tensors (None where an optional input is absent; reduced floats widened to fp32), ``ctx`` is
the executor's ``RunContext``. The executor casts results to the declared output dtypes.
"""

from layers.backend import trt

# LayerType name -> Python class name of the layer interface.
_LAYER_CLASS_NAMES = {
    "ACTIVATION": "IActivationLayer",
    "ASSERTION": "IAssertionLayer",
    "ATTENTION_INPUT": "IAttentionInputLayer",
    "ATTENTION_OUTPUT": "IAttentionOutputLayer",
    "CAST": "ICastLayer",
    "CONCATENATION": "IConcatenationLayer",
    "CONDITION": "IConditionLayer",
    "CONDITIONAL_INPUT": "IIfConditionalInputLayer",
    "CONDITIONAL_OUTPUT": "IIfConditionalOutputLayer",
    "CONSTANT": "IConstantLayer",
    "CONVOLUTION": "IConvolutionLayer",
    "CUMULATIVE": "ICumulativeLayer",
    "DECONVOLUTION": "IDeconvolutionLayer",
    "DEQUANTIZE": "IDequantizeLayer",
    "DIST_COLLECTIVE": "IDistCollectiveLayer",
    "DYNAMIC_QUANTIZE": "IDynamicQuantizeLayer",
    "EINSUM": "IEinsumLayer",
    "ELEMENTWISE": "IElementWiseLayer",
    "FILL": "IFillLayer",
    "GATHER": "IGatherLayer",
    "GRID_SAMPLE": "IGridSampleLayer",
    "IDENTITY": "IIdentityLayer",
    "ITERATOR": "IIteratorLayer",
    "KV_CACHE_UPDATE": "IKVCacheUpdateLayer",
    "LOOP_OUTPUT": "ILoopOutputLayer",
    "LRN": "ILRNLayer",
    "MATRIX_MULTIPLY": "IMatrixMultiplyLayer",
    "MOE": "IMoELayer",
    "NMS": "INMSLayer",
    "NON_ZERO": "INonZeroLayer",
    "NORMALIZATION": "INormalizationLayer",
    "ONE_HOT": "IOneHotLayer",
    "PADDING": "IPaddingLayer",
    "PARAMETRIC_RELU": "IParametricReLULayer",
    "PLUGIN_V2": "IPluginV2Layer",
    "PLUGIN_V3": "IPluginV3Layer",
    "POOLING": "IPoolingLayer",
    "QUANTIZE": "IQuantizeLayer",
    "RAGGED_SOFTMAX": "IRaggedSoftMaxLayer",
    "RECURRENCE": "IRecurrenceLayer",
    "REDUCE": "IReduceLayer",
    "RESIZE": "IResizeLayer",
    "REVERSE_SEQUENCE": "IReverseSequenceLayer",
    "ROTARY_EMBEDDING": "IRotaryEmbeddingLayer",
    "SCALE": "IScaleLayer",
    "SCATTER": "IScatterLayer",
    "SELECT": "ISelectLayer",
    "SHAPE": "IShapeLayer",
    "SHUFFLE": "IShuffleLayer",
    "SLICE": "ISliceLayer",
    "SOFTMAX": "ISoftMaxLayer",
    "SQUEEZE": "ISqueezeLayer",
    "TOPK": "ITopKLayer",
    "TRIP_LIMIT": "ITripLimitLayer",
    "UNARY": "IUnaryLayer",
    "UNSQUEEZE": "IUnsqueezeLayer",
}

# Only the types this backend actually has (datacenter TensorRT and RTX differ slightly).
LAYER_CLASSES = {
    getattr(trt.LayerType, name): getattr(trt, cls)
    for name, cls in _LAYER_CLASS_NAMES.items()
    if hasattr(trt.LayerType, name) and hasattr(trt, cls)
}

HANDLERS = {}


def handles(*type_names):
    """Register the decorated function as the handler of the named ``trt.LayerType`` values."""

    def register(fn):
        for name in type_names:
            layer_type = getattr(trt.LayerType, name, None)
            if layer_type is None:  # not in this TensorRT flavour
                continue
            if layer_type in HANDLERS:
                raise ValueError(f"two handlers registered for LayerType.{name}")
            HANDLERS[layer_type] = fn
        return fn

    return register


def layer_type(layer):
    """The ``trt.LayerType`` of a layer, also after downcasting.

    IPoolingLayer.type and IActivationLayer.type shadow ILayer.type with the pooling/activation
    kind, so read the base-class property explicitly.
    """
    return trt.ILayer.type.__get__(layer)


def downcast(layer):
    """Give ``layer`` its concrete interface so type-specific attributes become readable."""
    cls = LAYER_CLASSES.get(layer_type(layer))
    if cls is not None:
        layer.__class__ = cls
    return layer
