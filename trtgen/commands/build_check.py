"""Generation ends by building the generated network once (definition only, no engine).

A network that raises while it is built, that TensorRT rejects (errors are logged, not raised),
or whose inputs and outputs are not the model's, is refused with the module and the generated
line that failed: trtgen never writes a network that does not build.
"""

import layers
from layers.network import collect_errors

from ..errors import TrtgenError

GENERATED_FILE = "network.py"  # the file name generated code is compiled under


def check_network_builds(build_network, weights, io, scales=None):
    """Build ``build_network`` (network.py's) into a fresh network; refuse what fails.

    ``scales``: quant.safetensors' content for a quantized network (None otherwise)."""
    _, network = layers.create_network()
    arguments = (network, weights) if scales is None else (network, weights, scales)
    with collect_errors() as errors:
        try:
            build_network(*arguments)
        except Exception as exc:
            raise TrtgenError(
                f"the generated network does not build{_failing_line(exc)}: "
                f"{type(exc).__name__}: {' '.join(str(exc).split())}. Nothing was written; rewrite that part of the "
                "model or register a lowering with --rules"
            ) from exc
    if errors:
        raise TrtgenError(
            f"TensorRT rejected the generated network: {errors[0]}. Nothing was written; "
            "rewrite that part of the model or register a lowering with --rules"
        )
    _check_io(network, io)
    return network


def _failing_line(exc):
    """`` in module 'head.hm' (Sequential) at network.py:57 `y = F.foo(x)```: the innermost
    line of the generated file, and the innermost module whose ``forward`` was running."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == GENERATED_FILE:
            frames.append((tb.tb_frame, tb.tb_lineno))
        tb = tb.tb_next
    if not frames:
        return ""
    modules = [f.f_locals.get("self") for f, _ in frames]
    module = next((m for m in reversed(modules) if isinstance(m, layers.Module)), None)
    where = ""
    if module is not None:
        where = f" in module {module._path or '<root>'!r} ({type(module).__name__})"
    frame, line = frames[-1]
    text = _source_line(frame, line)
    return f"{where} at {GENERATED_FILE}:{line}" + (f" `{text}`" if text else "")


def _source_line(frame, line):
    source = frame.f_globals.get("__trtgen_source__")
    if not source:
        return ""
    lines = source.splitlines()
    return lines[line - 1].strip() if 0 < line <= len(lines) else ""


def _check_io(network, io):
    """The built network has the model's inputs and outputs, by name and in order."""
    inputs = [network.get_input(i).name for i in range(network.num_inputs)]
    outputs = [network.get_output(i).name for i in range(network.num_outputs)]
    wanted_outputs = [name for _, name in io.outputs]
    if inputs != list(io.input_names) or outputs != wanted_outputs:  # a trtgen bug
        raise RuntimeError(
            f"the generated network has inputs {inputs} and outputs {outputs}, the model "
            f"{list(io.input_names)} and {wanted_outputs}"
        )
