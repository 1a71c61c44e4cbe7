"""torch.nn odds and ends: Identity, Dropout (identity at inference), Flatten/Unflatten,
Upsample, PixelShuffle/PixelUnshuffle, ChannelShuffle and the padding modules. Constructor
arguments and attribute names are torch's; ``forward`` calls the functional op."""

from ..functional.pad import pad
from ..functional.resize import channel_shuffle, interpolate, pixel_shuffle, pixel_unshuffle
from ..functional.shape import flatten, unflatten
from ..module import Module

__all__ = [
    "Identity",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "FeatureAlphaDropout",
    "Flatten",
    "Unflatten",
    "Upsample",
    "UpsamplingNearest2d",
    "UpsamplingBilinear2d",
    "PixelShuffle",
    "PixelUnshuffle",
    "ChannelShuffle",
]


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Dropout(Module):
    """Inference only: no layer."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = p
        self.inplace = inplace

    def forward(self, input):
        return input


class Dropout1d(Dropout):
    pass


class Dropout2d(Dropout):
    pass


class Dropout3d(Dropout):
    pass


class AlphaDropout(Dropout):
    pass


class FeatureAlphaDropout(Dropout):
    pass


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return flatten(input, self.start_dim, self.end_dim)


class Unflatten(Module):
    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return unflatten(input, self.dim, self.unflattened_size)


class Upsample(Module):
    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode="nearest",
        align_corners=None,
        recompute_scale_factor=None,
    ):
        super().__init__()
        self.size = size
        self.scale_factor = (
            float(scale_factor) if isinstance(scale_factor, (int, float)) else scale_factor
        )
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)


class ChannelShuffle(Module):
    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, input):
        return channel_shuffle(input, self.groups)


# --------------------------------------------------------------------------- padding modules


class _PadNd(Module):
    mode, dims = "constant", 2

    def __init__(self, padding):
        super().__init__()
        # an int pads every side of the last ``dims`` dims, as in torch
        self.padding = (
            tuple(padding)
            if isinstance(padding, (tuple, list))
            else (int(padding),) * (2 * self.dims)
        )

    def forward(self, input):
        return pad(input, self.padding, self.mode)


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return pad(input, self.padding, "constant", self.value)


_PADS = [  # class name prefix, base, F.pad mode
    ("ZeroPad", _PadNd, "constant"),
    ("ConstantPad", _ConstantPadNd, "constant"),
    ("ReflectionPad", _PadNd, "reflect"),
    ("ReplicationPad", _PadNd, "replicate"),
    ("CircularPad", _PadNd, "circular"),
]

for _prefix, _base, _mode in _PADS:
    for _dims in (1, 2, 3):
        _name = f"{_prefix}{_dims}d"
        globals()[_name] = type(
            _name,
            (_base,),
            {
                "mode": _mode,
                "dims": _dims,
                "__module__": __name__,
                "__doc__": f"torch.nn.{_name}: F.pad(mode={_mode!r}) on the last {_dims} dim(s).",
            },
        )
        __all__.append(_name)
