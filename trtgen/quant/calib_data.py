"""Calibration samples: MODEL.py's ``get_calibration_data()`` or ``--calib DIR``.

Each sample is one tuple of input tensors in the model's forward order, of the example
inputs' dtypes and shapes (inside the optimization profile for dynamic inputs).

``--calib DIR`` holds one file per sample, taken in name order: ``.pt`` files (a tensor, a
tuple/list in forward order, or a dict by input name) or, for one-input models, ``.npy``.
"""

import os

import numpy as np
import torch

from ..capture.load import _call_user
from ..errors import TrtgenError

SUFFIXES = (".pt", ".npy")


def calibration_samples(loaded, calib_dir=None):
    """The samples, checked against the model's inputs; a TrtgenError says what is wrong."""
    if calib_dir is not None:
        samples = [_sample_from_file(path, loaded) for path in _sample_files(calib_dir)]
        where = f"--calib {calib_dir}"
    elif loaded.calibration_data is not None:
        samples = _call_user(
            loaded.source, "get_calibration_data()", lambda: list(loaded.calibration_data())
        )
        where = f"{loaded.source}: get_calibration_data()"
    else:
        raise TrtgenError(
            "--quant needs calibration data: define get_calibration_data() in MODEL.py "
            "(yielding input tuples like get_example_inputs()) or pass --calib DIR "
            "(one .pt or .npy file per sample)"
        )
    if not samples:
        raise TrtgenError(f"{where} gave no calibration samples")
    return [_checked(sample, loaded, f"{where}, sample {i}") for i, sample in enumerate(samples)]


def _sample_files(calib_dir):
    if not os.path.isdir(calib_dir):
        raise TrtgenError(f"--calib {calib_dir}: not a directory")
    files = sorted(f for f in os.listdir(calib_dir) if f.endswith(SUFFIXES))
    if not files:
        raise TrtgenError(f"--calib {calib_dir}: no {' or '.join(SUFFIXES)} files in it")
    return [os.path.join(calib_dir, f) for f in files]


def _sample_from_file(path, loaded):
    if path.endswith(".npy"):
        if len(loaded.input_names) != 1:
            raise TrtgenError(
                f"{path}: a .npy file holds one input, but the model has "
                f"{len(loaded.input_names)}; save each sample as a .pt tuple or dict instead"
            )
        try:  # never unpickle: calibration files may come from anywhere
            return (torch.from_numpy(np.load(path, allow_pickle=False)),)
        except (ValueError, OSError, TypeError) as exc:
            raise TrtgenError(f"{path}: cannot read it as a numpy.save array ({exc})") from exc
    try:
        value = torch.load(path, weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        raise TrtgenError(f"{path}: cannot read it as a torch.save file ({exc})") from exc
    if isinstance(value, dict):
        missing = [n for n in loaded.input_names if n not in value]
        if missing:
            raise TrtgenError(f"{path}: the dict has no input {missing[0]!r}")
        return tuple(value[n] for n in loaded.input_names)
    return value


def _checked(sample, loaded, where):
    sample = (sample,) if isinstance(sample, torch.Tensor) else tuple(sample)
    names, examples = loaded.input_names, loaded.example_inputs
    if len(sample) != len(examples):
        raise TrtgenError(
            f"{where}: {len(sample)} tensors, the model takes {len(examples)} ({', '.join(names)})"
        )
    checked = []
    for name, value, example in zip(names, sample, examples):
        if not isinstance(value, torch.Tensor):
            raise TrtgenError(f"{where}: input {name!r} is a {type(value).__name__}, not a tensor")
        if value.dim() != example.dim():
            raise TrtgenError(
                f"{where}: input {name!r} has shape {list(value.shape)}, "
                f"the example input {list(example.shape)}"
            )
        if value.is_complex() or (value.is_floating_point() and not example.is_floating_point()):
            raise TrtgenError(
                f"{where}: input {name!r} is {str(value.dtype).removeprefix('torch.')}, the example "
                f"input {str(example.dtype).removeprefix('torch.')}; converting would change its values"
            )
        checked.append(value.to(example.dtype))
    return tuple(checked)
