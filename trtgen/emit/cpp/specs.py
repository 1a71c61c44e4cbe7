"""One row per TensorRT layer type: how the C++ builder creates it and which attributes it sets.

The same rows drive the emitter (``add*`` call + setters for attributes that differ from
TensorRT's defaults) and both ``--describe`` writers (Python and the generated C++), so the two
builders are compared on exactly the attributes the C++ one sets.

Creation parts: ``In(i)`` an input tensor, ``Lit(kind, value)`` a literal, ``Wt(role)`` a
build-time weight, ``InList()`` all inputs as an array; strings are C++ text.
"""

from dataclasses import dataclass, field

from layers.backend import trt


@dataclass(frozen=True)
class In:
    index: int


@dataclass(frozen=True)
class InList:
    pass


@dataclass(frozen=True)
class Wt:
    role: str  # Python property holding the weights (kernel, bias, shift, weights...)


@dataclass(frozen=True)
class Lit:
    kind: str  # int float double bool dims perm enum axes str name
    value: object
    hint: str = field(default="", compare=False)  # parameter name if it becomes one


@dataclass(frozen=True)
class LoopRef:
    """The ``ILoop*`` a loop boundary layer belongs to (declared before its first layer)."""


UNSET = object()


@dataclass(frozen=True)
class Attr:
    py: str
    cpp: str  # C++ accessor stem: set<cpp> / get<cpp>
    kind: str
    default: object = UNSET  # TensorRT's initial value; UNSET: always emitted
    getter: str = ""  # C++ getter when it is not get<cpp> (isX, ...)
    settable: bool = True  # False: fixed at creation (a loop output's kind), only described

    @property
    def cpp_getter(self):
        return self.getter or f"get{self.cpp}"


@dataclass(frozen=True)
class Spec:
    cpp_class: str
    create: object  # layer -> list of parts
    created_inputs: int  # inputs passed to add*(); the rest are set with setInput
    attrs: tuple = ()
    weights: tuple = ()  # weight roles, for --describe
    defaults: object = None  # layer -> {py: default} for defaults that depend on the layer
    skip: object = field(default=None)  # layer -> names of attrs not to emit / describe
    # set even at their default, as hand-written TensorRT does: instances of a module that
    # differ only in stride or padding then share a helper (the value becomes a parameter)
    explicit: tuple = ()
    sizing: object = None  # (layer, var) -> C++ statements setting what no Attr covers
    # attributes TensorRT validates when the layer's output is first read (naming reads it):
    # set them before `named(...)`, as network.py does (a per-channel Q/DQ's axis)
    set_before_naming: bool = False


def _rank(layer):
    return len(layer.get_output(0).shape)


def _ones(layer):
    return tuple([1] * len(layer.kernel_size_nd))


def _zeros(layer):
    return tuple([0] * len(layer.kernel_size_nd))


def _conv(add):
    def create(layer):
        return [
            f"net.{add}(",
            In(0),
            ", ",
            Lit("int", layer.num_output_maps, "out_channels"),
            ", ",
            Lit("dims", tuple(layer.kernel_size_nd)),
            ", ",
            Wt("kernel"),
            ", ",
            Wt("bias"),
            ")",
        ]

    return create


_CONV_ATTRS = (
    Attr("stride_nd", "StrideNd", "dims"),
    Attr("pre_padding", "PrePadding", "dims"),
    Attr("post_padding", "PostPadding", "dims"),
    Attr("dilation_nd", "DilationNd", "dims"),
    Attr("num_groups", "NbGroups", "int", 1),
    Attr("padding_mode", "PaddingMode", "enum", trt.PaddingMode.EXPLICIT_ROUND_DOWN),
)


def _conv_defaults(layer):
    ones, zeros = _ones(layer), _zeros(layer)
    return {"stride_nd": ones, "dilation_nd": ones, "pre_padding": zeros, "post_padding": zeros}


def _pool_defaults(layer):
    window = tuple(layer.window_size_nd)
    zeros = tuple([0] * len(window))
    return {"stride_nd": tuple([1] * len(window)), "pre_padding": zeros, "post_padding": zeros}


def _activation_defaults(layer):
    # alpha / beta start at values that depend on the activation type (LEAKY_RELU: 0.01)
    return _scratch_activation(layer.type)


_ACTIVATION_DEFAULTS = {}


def _scratch_activation(kind):
    if kind not in _ACTIVATION_DEFAULTS:
        builder = trt.Builder(trt.Logger(trt.Logger.ERROR))
        network = builder.create_network(1 << int(trt.NetworkDefinitionCreationFlag.STRONGLY_TYPED))
        x = network.add_input("x", trt.float32, (1,))
        layer = network.add_activation(x, kind)
        _ACTIVATION_DEFAULTS[kind] = {"alpha": layer.alpha, "beta": layer.beta}
    return _ACTIVATION_DEFAULTS[kind]


def _loop_call(method, *args):
    """``loop->method(arg, arg...)`` parts, on the boundary layer's loop."""
    return [LoopRef(), f"->{method}(", *_call(method, *args)[1:]]


def _call(method, *args):
    """``net.method(arg, arg...)`` parts."""
    parts = [f"net.{method}("]
    for i, arg in enumerate(args):
        if i:
            parts.append(", ")
        parts.append(arg)
    parts.append(")")
    return parts


def _identity_perm(layer):
    return tuple(range(8))


IDENTITY_PERM = tuple(range(8))

SPECS = {
    trt.LayerType.CONVOLUTION: Spec(
        "IConvolutionLayer",
        _conv("addConvolutionNd"),
        1,
        _CONV_ATTRS,
        ("kernel", "bias"),
        _conv_defaults,
        explicit=("stride_nd", "pre_padding", "post_padding"),
    ),
    trt.LayerType.DECONVOLUTION: Spec(
        "IDeconvolutionLayer",
        _conv("addDeconvolutionNd"),
        1,
        _CONV_ATTRS,
        ("kernel", "bias"),
        _conv_defaults,
        explicit=("stride_nd", "pre_padding", "post_padding"),
    ),
    trt.LayerType.ACTIVATION: Spec(
        "IActivationLayer",
        lambda l: _call("addActivation", In(0), Lit("enum", l.type)),
        1,
        (Attr("alpha", "Alpha", "float"), Attr("beta", "Beta", "float")),
        defaults=_activation_defaults,
    ),
    trt.LayerType.POOLING: Spec(
        "IPoolingLayer",
        lambda l: _call(
            "addPoolingNd", In(0), Lit("enum", l.type), Lit("dims", tuple(l.window_size_nd))
        ),
        1,
        (
            Attr("stride_nd", "StrideNd", "dims"),
            Attr("pre_padding", "PrePadding", "dims"),
            Attr("post_padding", "PostPadding", "dims"),
            Attr("padding_mode", "PaddingMode", "enum", trt.PaddingMode.EXPLICIT_ROUND_DOWN),
            Attr("blend_factor", "BlendFactor", "float", 0.0),
            Attr(
                "average_count_excludes_padding",
                "AverageCountExcludesPadding",
                "bool",
                True,
            ),
        ),
        defaults=_pool_defaults,
        explicit=("stride_nd", "pre_padding", "post_padding"),
    ),
    trt.LayerType.SCALE: Spec(
        "IScaleLayer",
        lambda l: _call(
            "addScaleNd",
            In(0),
            Lit("enum", l.mode),
            Wt("shift"),
            Wt("scale"),
            Wt("power"),
            Lit("int", l.channel_axis),
        ),
        1,
        (),
        ("shift", "scale", "power"),
    ),
    trt.LayerType.SOFTMAX: Spec(
        "ISoftMaxLayer",
        lambda l: _call("addSoftMax", In(0)),
        1,
        (Attr("axes", "Axes", "axes"),),
    ),
    trt.LayerType.CONCATENATION: Spec(
        "IConcatenationLayer",
        lambda l: ["net.addConcatenation(", InList(), ")"],
        None,
        (Attr("axis", "Axis", "int"),),
    ),
    trt.LayerType.ELEMENTWISE: Spec(
        "IElementWiseLayer",
        lambda l: _call("addElementWise", In(0), In(1), Lit("enum", l.op)),
        2,
    ),
    trt.LayerType.UNARY: Spec(
        "IUnaryLayer",
        lambda l: _call("addUnary", In(0), Lit("enum", l.op)),
        1,
    ),
    trt.LayerType.SHUFFLE: Spec(
        "IShuffleLayer",
        lambda l: _call("addShuffle", In(0)),
        1,
        (
            Attr("first_transpose", "FirstTranspose", "perm", IDENTITY_PERM),
            Attr("reshape_dims", "ReshapeDimensions", "dims", None),
            Attr("second_transpose", "SecondTranspose", "perm", IDENTITY_PERM),
            Attr("zero_is_placeholder", "ZeroIsPlaceholder", "bool", True),
        ),
        # a shape tensor on input 1 replaces the static reshape dims (TensorRT warns on reading them)
        skip=lambda l: ("reshape_dims",) if _has_input(l, 1) else (),
    ),
    trt.LayerType.REDUCE: Spec(
        "IReduceLayer",
        lambda l: _call(
            "addReduce", In(0), Lit("enum", l.op), Lit("axes", l.axes), Lit("bool", l.keep_dims)
        ),
        1,
    ),
    trt.LayerType.TOPK: Spec(
        "ITopKLayer",
        lambda l: _call(
            "addTopK",
            In(0),
            Lit("enum", l.op),
            Lit("int", l.k),
            Lit("axes", l.axes),
            Lit("enum", l.indices_type),
        ),
        1,
    ),
    trt.LayerType.GATHER: Spec(
        "IGatherLayer",
        lambda l: _call("addGatherV2", In(0), In(1), Lit("enum", l.mode)),
        2,
        (
            Attr("axis", "GatherAxis", "int", 0),
            Attr("num_elementwise_dims", "NbElementWiseDims", "int", 0),
        ),
    ),
    trt.LayerType.MATRIX_MULTIPLY: Spec(
        "IMatrixMultiplyLayer",
        lambda l: _call("addMatrixMultiply", In(0), Lit("enum", l.op0), In(1), Lit("enum", l.op1)),
        2,
    ),
    trt.LayerType.CONSTANT: Spec(
        "IConstantLayer",
        lambda l: _call("addConstant", Lit("dims", tuple(l.shape)), Wt("weights")),
        0,
        (),
        ("weights",),
    ),
    trt.LayerType.IDENTITY: Spec("IIdentityLayer", lambda l: _call("addIdentity", In(0)), 1),
    trt.LayerType.CAST: Spec(
        "ICastLayer",
        lambda l: _call("addCast", In(0), Lit("enum", l.to_type)),
        1,
    ),
    trt.LayerType.SLICE: Spec(
        "ISliceLayer",
        lambda l: _call(
            "addSlice",
            In(0),
            Lit("dims", _dims(l.start)),
            # a shape tensor on input 2 gives the size (TensorRT warns on reading the static one)
            Lit("dims", () if _has_input(l, 2) else _dims(l.shape)),
            Lit("dims", _dims(l.stride)),
        ),
        1,
        (
            Attr("mode", "Mode", "enum", trt.SampleMode.STRICT_BOUNDS),
            # set when dynamic dims read whole are left out of start/size/stride
            Attr("axes", "Axes", "dims", None),
        ),
    ),
    trt.LayerType.SHAPE: Spec("IShapeLayer", lambda l: _call("addShape", In(0)), 1),
    trt.LayerType.PARAMETRIC_RELU: Spec(
        "IParametricReLULayer", lambda l: _call("addParametricReLU", In(0), In(1)), 2
    ),
    trt.LayerType.RESIZE: Spec(
        "IResizeLayer",
        lambda l: _call("addResize", In(0)),
        1,
        sizing=lambda l, var: _resize_sizing(l, var),
        attrs=(
            Attr("resize_mode", "ResizeMode", "enum", trt.InterpolationMode.NEAREST),
            Attr(
                "coordinate_transformation",
                "CoordinateTransformation",
                "enum",
                trt.ResizeCoordinateTransformation.ASYMMETRIC,
            ),
            Attr(
                "selector_for_single_pixel",
                "SelectorForSinglePixel",
                "enum",
                trt.ResizeSelector.FORMULA,
            ),
            Attr("nearest_rounding", "NearestRounding", "enum", trt.ResizeRoundMode.FLOOR),
            Attr("cubic_coeff", "CubicCoeff", "float", -0.75),
            Attr("exclude_outside", "ExcludeOutside", "bool", False),
        ),
    ),
    trt.LayerType.SELECT: Spec(
        "ISelectLayer", lambda l: _call("addSelect", In(0), In(1), In(2)), 3
    ),
    trt.LayerType.FILL: Spec(
        "IFillLayer",
        lambda l: _call(
            "addFill",
            Lit("dims", () if _has_input(l, 0) else _dims(l.shape)),  # input 0: run-time shape
            Lit("enum", l.operation),
            Lit("enum", l.to_type),
        ),
        0,
        (Attr("alpha", "Alpha", "double", 0.0), Attr("beta", "Beta", "double", 0.0)),
    ),
    trt.LayerType.PADDING: Spec(
        "IPaddingLayer",
        lambda l: _call(
            "addPaddingNd",
            In(0),
            Lit("dims", tuple(l.pre_padding_nd)),
            Lit("dims", tuple(l.post_padding_nd)),
        ),
        1,
    ),
    trt.LayerType.SCATTER: Spec(
        "IScatterLayer",
        lambda l: _call("addScatter", In(0), In(1), In(2), Lit("enum", l.mode)),
        3,
        (Attr("axis", "Axis", "int", 0),),
    ),
    trt.LayerType.EINSUM: Spec(
        "IEinsumLayer",
        lambda l: ["net.addEinsum(", InList(), ", ", Lit("str", l.equation), ")"],
        None,
    ),
    trt.LayerType.ONE_HOT: Spec(
        "IOneHotLayer",
        lambda l: _call("addOneHot", In(0), In(1), In(2), Lit("int", l.axis)),
        3,
    ),
    trt.LayerType.NON_ZERO: Spec(
        "INonZeroLayer", lambda l: _call("addNonZero", In(0), Lit("enum", l.indices_type)), 1
    ),
    trt.LayerType.GRID_SAMPLE: Spec(
        "IGridSampleLayer",
        lambda l: _call("addGridSample", In(0), In(1)),
        2,
        (
            Attr("interpolation_mode", "InterpolationMode", "enum", trt.InterpolationMode.LINEAR),
            Attr("align_corners", "AlignCorners", "bool", False),
            Attr("sample_mode", "SampleMode", "enum", trt.SampleMode.FILL),
        ),
    ),
    trt.LayerType.NMS: Spec(
        "INMSLayer",
        lambda l: _call("addNMS", In(0), In(1), In(2), Lit("enum", l.indices_type)),
        3,
        (
            Attr(
                "bounding_box_format",
                "BoundingBoxFormat",
                "enum",
                trt.BoundingBoxFormat.CORNER_PAIRS,
            ),
            Attr("topk_box_limit", "TopKBoxLimit", "int"),
        ),
    ),
    trt.LayerType.REVERSE_SEQUENCE: Spec(
        "IReverseSequenceLayer",
        lambda l: _call("addReverseSequence", In(0), In(1)),
        2,
        (
            Attr("batch_axis", "BatchAxis", "int", 1),
            Attr("sequence_axis", "SequenceAxis", "int", 0),
        ),
    ),
    trt.LayerType.NORMALIZATION: Spec(
        "INormalizationLayer",
        lambda l: _call(
            "addNormalizationV2" if l.is_v2 else "addNormalization",
            In(0),
            In(1),
            In(2),
            Lit("axes", l.axes),
        ),
        3,
        (Attr("epsilon", "Epsilon", "float", 1e-5), Attr("num_groups", "NbGroups", "int", 1)),
    ),
    trt.LayerType.CUMULATIVE: Spec(
        "ICumulativeLayer",
        lambda l: _call(
            "addCumulative",
            In(0),
            In(1),
            Lit("enum", l.op),
            Lit("bool", l.exclusive),
            Lit("bool", l.reverse),
        ),
        2,
    ),
    trt.LayerType.SQUEEZE: Spec("ISqueezeLayer", lambda l: _call("addSqueeze", In(0), In(1)), 2),
    trt.LayerType.UNSQUEEZE: Spec(
        "IUnsqueezeLayer", lambda l: _call("addUnsqueeze", In(0), In(1)), 2
    ),
    # loops: the ILoop is declared before its first boundary layer; a recurrence's second input
    # (the next state, computed later in the body) is set once the body has made it
    trt.LayerType.TRIP_LIMIT: Spec(
        "ITripLimitLayer",
        lambda l: _loop_call("addTripLimit", In(0), Lit("enum", l.kind)),
        1,
        (Attr("kind", "TripLimit", "enum", settable=False),),
    ),
    trt.LayerType.ITERATOR: Spec(
        "IIteratorLayer",
        lambda l: _loop_call("addIterator", In(0)),
        1,
        (Attr("axis", "Axis", "int", 0), Attr("reverse", "Reverse", "bool", False)),
        set_before_naming=True,
    ),
    trt.LayerType.RECURRENCE: Spec(
        "IRecurrenceLayer", lambda l: _loop_call("addRecurrence", In(0)), 1
    ),
    trt.LayerType.LOOP_OUTPUT: Spec(
        "ILoopOutputLayer",
        lambda l: _loop_call("addLoopOutput", In(0), Lit("enum", l.kind)),
        1,
        (
            Attr("kind", "LoopOutput", "enum", settable=False),
            Attr("axis", "Axis", "int", 0),
        ),
        set_before_naming=True,
    ),
    trt.LayerType.ASSERTION: Spec(
        "IAssertionLayer", lambda l: _call("addAssertion", In(0), Lit("str", l.message)), 1
    ),
    trt.LayerType.LRN: Spec(
        "ILRNLayer",
        lambda l: _call(
            "addLRN",
            In(0),
            Lit("int", l.window_size),
            Lit("float", l.alpha),
            Lit("float", l.beta),
            Lit("float", l.k),
        ),
        1,
    ),
    trt.LayerType.QUANTIZE: Spec(
        "IQuantizeLayer",
        lambda l: _call("addQuantize", In(0), In(1), Lit("enum", l.to_type)),
        2,
        (Attr("axis", "Axis", "int", -1),),
        set_before_naming=True,
    ),
    trt.LayerType.DEQUANTIZE: Spec(
        "IDequantizeLayer",
        lambda l: _call("addDequantize", In(0), In(1), Lit("enum", l.to_type)),
        2,
        (Attr("axis", "Axis", "int", -1),),
        set_before_naming=True,
    ),
}


def _resize_sizing(layer, var):
    """Output size of a RESIZE: scale factors, static dims, or (input 1) a shape tensor."""
    from .literals import cpp_float

    if layer.scales:
        values = ", ".join(cpp_float(v) for v in layer.scales)
        return [
            f"static float const {var}_scales[] = {{{values}}};\n",
            f"{var}->setScales({var}_scales, {len(layer.scales)});\n",
        ]
    if _has_input(layer, 1):
        return []
    return [f"{var}->setOutputDimensions(", Lit("dims", tuple(layer.shape), "size"), ");\n"]


def _has_input(layer, index):
    return layer.num_inputs > index and layer.get_input(index) is not None


def _dims(value):
    return tuple(value) if value is not None else ()


def spec_for(layer):
    """The row for ``layer`` (already cast to its concrete class), or a clear error."""
    kind = trt.ILayer.type.__get__(layer)  # IActivationLayer.type etc. shadow the layer type
    spec = SPECS.get(kind)
    if spec is None:
        raise NotImplementedError(
            f"C++ output does not support TensorRT {kind.name} layers yet "
            f"(layer {layer.name!r}); generate Python only (--lang python) for this model"
        )
    return spec


def defaults_of(spec, layer):
    values = {a.py: a.default for a in spec.attrs}
    if spec.defaults is not None:
        values.update(spec.defaults(layer))
    return values
