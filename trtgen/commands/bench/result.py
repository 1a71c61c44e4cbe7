"""What one benchmark run records, per route and for PyTorch; serialized as bench.json."""

import dataclasses


def _no_gpu_numbers():
    # `skipped` says why latency_ms / throughput_per_s are missing; they are never estimated
    return {"latency_ms": None, "throughput_per_s": None, "skipped": None}


@dataclasses.dataclass
class RouteResult:
    """One way from the PyTorch model to a TensorRT network (trtgen, or torch.onnx.export)."""

    convert: str  # what convert_s times
    network: str  # what network_s times
    convert_s: float = None  # median over the runs
    convert_runs_s: list = dataclasses.field(default_factory=list)
    convert_cpu_s: float = None  # median CPU seconds of this process over the runs
    convert_cpu_runs_s: list = dataclasses.field(default_factory=list)
    network_s: float = None
    layers: int = None
    layer_types: dict = dataclasses.field(default_factory=dict)
    engine_build_s: float = None  # median over the runs
    engine_build_runs_s: list = dataclasses.field(default_factory=list)
    engine_bytes: int = None
    gpu: dict = dataclasses.field(default_factory=_no_gpu_numbers)
    details: dict = dataclasses.field(default_factory=dict)  # route-specific facts
    error: str = None  # "stage: first line of the error"; later stages were skipped


@dataclasses.dataclass
class BenchResult:
    model: str
    source: str
    inputs: list  # [{"name", "shape", "dtype"}]
    order: list  # route names in the order they ran
    repeat: int
    engine: bool  # engines were built
    environment: dict
    gpu: dict  # {"available", "reason", "device"}
    routes: dict  # route name -> RouteResult
    pytorch: dict  # "eager" / "compile" -> gpu numbers dict
    load_average: list = None  # the machine's 1-minute load average [before, after] the run

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["routes"] = {name: RouteResult(**route) for name, route in data["routes"].items()}
        return cls(**data)
