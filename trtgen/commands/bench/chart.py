"""PNG charts: grouped bars, trtgen beside the ONNX route (matplotlib, imported only here)."""

import io

from .measure import PLUMBING
from .report import ROUTE_TITLES

COLORS = {"trtgen": "#2a7ab0", "onnx": "#d9822b"}


def _pyplot():
    import matplotlib  # `trtgen bench` and bench_zoo.py check for it before any work

    matplotlib.use("Agg")  # files only, never a window
    from matplotlib import pyplot

    return pyplot


def _bars(axes, labels, series, title, ylabel, log=False):
    """``series``: {route name: [value or None per label]}; None draws no bar."""
    axes.set_title(title, fontsize=10)
    if all(v is None for values in series.values() for v in values):
        axes.text(0.5, 0.5, "not measured", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return
    width = 0.8 / len(series)
    for index, (route, values) in enumerate(series.items()):
        xs = [i + (index - (len(series) - 1) / 2) * width for i in range(len(labels))]
        heights = [0 if v is None else v for v in values]
        bars = axes.bar(xs, heights, width, label=ROUTE_TITLES[route], color=COLORS[route])
        for bar, value in zip(bars, values):
            if value is not None:
                text = f"{value:.3g}" if isinstance(value, float) else str(value)
                axes.annotate(
                    text,
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=6,
                )
    axes.set_xticks(range(len(labels)), labels, rotation=30, ha="right", fontsize=8)
    axes.set_ylabel(ylabel, fontsize=8)
    if log:
        axes.set_yscale("symlog", linthresh=1)
    axes.legend(fontsize=7)


def _save(figure):
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=120, metadata={"Software": None})
    return buffer.getvalue()


def model_chart(result):
    """bench.png of one model: layer counts by type, and seconds per stage."""
    pyplot = _pyplot()
    figure, (layers_axes, time_axes) = pyplot.subplots(1, 2, figsize=(10, 4))
    kinds = ("all", *PLUMBING)
    layer_series = {
        name: [
            (
                route.layers
                if kind == "all"
                else (None if route.layers is None else route.layer_types.get(kind, 0))
            )
            for kind in kinds
        ]
        for name, route in result.routes.items()
    }
    _bars(layers_axes, kinds, layer_series, f"{result.model}: network layers", "layers", log=True)
    stages = ("convert_s", "network_s", "engine_build_s")
    labels = ("generation / export", "network / parse", "engine build")
    time_series = {
        name: [getattr(route, s) for s in stages] for name, route in result.routes.items()
    }
    _bars(time_axes, labels, time_series, f"{result.model}: seconds", "seconds")
    data = _save(figure)
    pyplot.close(figure)
    return data


def _plumbing(route):
    if route.layers is None:
        return None
    return sum(route.layer_types.get(kind, 0) for kind in PLUMBING)


def zoo_chart(results):
    """docs/benchmarks.png: per model, layers, plumbing layers, conversion and engine build s."""
    pyplot = _pyplot()
    figure, axes = pyplot.subplots(2, 2, figsize=(13, 8))
    models = [r.model for r in results]
    panels = (
        ("network layers", "layers", lambda route: route.layers),
        (f"plumbing layers ({', '.join(PLUMBING)})", "layers", _plumbing),
        ("generation vs torch.onnx.export (median)", "seconds", lambda route: route.convert_s),
        ("engine build", "seconds", lambda route: route.engine_build_s),
    )
    for ax, (title, unit, value) in zip(axes.flat, panels):
        series = {name: [value(r.routes[name]) for r in results] for name in ROUTE_TITLES}
        _bars(ax, models, series, title, unit)
    data = _save(figure)
    pyplot.close(figure)
    return data
