"""``Tensor``: a torch-like handle on a TensorRT ``ITensor``.

Methods only forward to ``layers.functional``; all TensorRT logic lives there.
"""

from . import dtypes


def _F():
    from . import functional  # late: functional imports this module

    return functional


class Tensor:
    __slots__ = ("_trt", "_rebuild")

    def __init__(self, itensor):
        self._trt = itensor
        self._rebuild = None

    @property
    def trt(self):
        """The ``ITensor``; rebuilt first if its layer was changed to compute something else."""
        if self._rebuild is not None:
            rebuild, self._rebuild = self._rebuild, None
            self._trt = rebuild()
        return self._trt

    def rebuild_on_use(self, rebuild):
        """This handle's ITensor now holds another value (a batch norm folded into the
        convolution that made it): ``rebuild()`` makes an ITensor of the old value if it is
        used again."""
        self._rebuild = rebuild

    # ------------------------------------------------------------------ metadata
    @property
    def name(self):
        return self.trt.name

    # shape and dtype survive a fold (``rebuild_on_use``): reading them rebuilds nothing
    @property
    def shape(self):
        """Static dims as ints, dynamic ones as -1 (use ``size(dim)`` for a shape tensor)."""
        return tuple(self._trt.shape)

    @property
    def dtype(self):
        return self._trt.dtype

    @property
    def ndim(self):
        return len(self._trt.shape)

    def dim(self):
        return self.ndim

    # torch's transposed views: ``x.T`` reverses the dims, ``x.mT`` swaps the last two
    @property
    def T(self):  # noqa: N802 - torch name
        return _F().permute(self, list(reversed(range(self.ndim))))

    @property
    def mT(self):  # noqa: N802 - torch name
        return _F().transpose(self, -2, -1)

    def size(self, dim=None):
        return _F().size(self, dim)

    def numel(self):
        """An int for a static shape; a 0-d int64 tensor when a dim is dynamic."""
        return _F().numel(self)

    def is_floating_point(self):
        return dtypes.is_floating(self.dtype)

    def __repr__(self):
        return f"Tensor(name={self.name!r}, shape={self.shape}, dtype={dtypes.name_of(self.dtype)})"

    def __len__(self):
        return self.shape[0]

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        return _F().add(self, other)

    def __radd__(self, other):
        return _F().add(other, self)

    def __sub__(self, other):
        return _F().sub(self, other)

    def __rsub__(self, other):
        return _F().sub(other, self)

    def __mul__(self, other):
        return _F().mul(self, other)

    def __rmul__(self, other):
        return _F().mul(other, self)

    def __truediv__(self, other):
        return _F().div(self, other)

    def __rtruediv__(self, other):
        return _F().div(other, self)

    def __floordiv__(self, other):
        return _F().floor_divide(self, other)

    def __mod__(self, other):
        return _F().remainder(self, other)

    def __pow__(self, other):
        return _F().pow(self, other)

    def __rpow__(self, other):
        return _F().pow(other, self)

    def __matmul__(self, other):
        return _F().matmul(self, other)

    def __rmatmul__(self, other):
        return _F().matmul(other, self)

    def __neg__(self):
        return _F().neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _F().abs(self)

    # bitwise on integers, logical on bools (as in torch)
    def __invert__(self):
        return _F().bitwise_not(self)

    def __and__(self, other):
        return _F().bitwise_and(self, other)

    def __rand__(self, other):
        return _F().bitwise_and(other, self)

    def __or__(self, other):
        return _F().bitwise_or(self, other)

    def __ror__(self, other):
        return _F().bitwise_or(other, self)

    def __xor__(self, other):
        return _F().bitwise_xor(self, other)

    def __rxor__(self, other):
        return _F().bitwise_xor(other, self)

    def __lshift__(self, other):
        return _F().bitwise_left_shift(self, other)

    def __rlshift__(self, other):
        return _F().bitwise_left_shift(other, self)

    def __rshift__(self, other):
        return _F().bitwise_right_shift(self, other)

    def __rrshift__(self, other):
        return _F().bitwise_right_shift(other, self)

    # comparisons build layers; identity of handles is `is`, so __hash__ stays id-based
    def __eq__(self, other):
        return _F().eq(self, other)

    def __ne__(self, other):
        return _F().ne(self, other)

    def __lt__(self, other):
        return _F().lt(self, other)

    def __le__(self, other):
        return _F().le(self, other)

    def __gt__(self, other):
        return _F().gt(self, other)

    def __ge__(self, other):
        return _F().ge(self, other)

    __hash__ = object.__hash__

    def __getitem__(self, index):
        return _F().getitem(self, index)

    def __bool__(self):
        raise TypeError(
            "a network tensor has no Python truth value (its value exists only at run time); "
            "use layers.functional.where for data-dependent choices"
        )

    # ------------------------------------------------------------------ torch-style methods
    def __getattr__(self, name):
        # x.relu(), x.view(...), x.sum(...): every functional op doubles as a method.
        function = getattr(_F(), name, None)
        if function is None or name.startswith("_"):
            raise AttributeError(f"'Tensor' has no attribute {name!r}")
        return lambda *args, **kwargs: function(self, *args, **kwargs)

    def where(self, condition, other):
        # torch: x.where(cond, y) == torch.where(cond, x, y)
        return _F().where(condition, self, other)

    def contiguous(self, *_, **__):
        return self

    def unfold(self, dimension, size, step):
        # sliding windows, not F.unfold's im2col that the functional name means
        return _F().indexing.tensor_unfold(self, dimension, size, step)

    def float(self):
        return _F().cast(self, dtypes.float32)

    def half(self):
        return _F().cast(self, dtypes.float16)

    def int(self):
        return _F().cast(self, dtypes.int32)

    def long(self):
        return _F().cast(self, dtypes.int64)

    def bool(self):
        return _F().cast(self, dtypes.bool)

    def to(self, dtype):
        return _F().cast(self, dtype)

    def type_as(self, other):
        return _F().cast(self, other.dtype)
