"""The project's benchmark targets, each judged from measured results (never written by hand)."""

import dataclasses

PASS, FAIL, NOT_MEASURED = "PASS", "FAIL", "NOT MEASURED"
VIT_MAX_LAYERS = 350
GENERATION_MAX_RATIO = 0.5


@dataclasses.dataclass(frozen=True)
class Target:
    statement: str
    judge: object  # {model name: BenchResult} -> (measured text, verdict)


def _routes(result):
    return result.routes["trtgen"], result.routes["onnx"]


def vit_layers(by_model):
    result = by_model.get("vit_b_16")
    if result is None or result.routes["trtgen"].layers is None:
        return "vit_b_16 not measured", NOT_MEASURED
    ours, theirs = _routes(result)
    measured = f"vit_b_16: {ours.layers} trtgen layers (ONNX route: {theirs.layers})"
    return measured, PASS if ours.layers <= VIT_MAX_LAYERS else FAIL


def resnet_plumbing(by_model):
    kinds = ("IDENTITY", "SHAPE", "CAST")
    result = by_model.get("resnet50")
    if result is None or result.routes["trtgen"].layers is None:
        return "resnet50 not measured", NOT_MEASURED
    ours, theirs = _routes(result)

    def text(route):
        return ", ".join(f"{route.layer_types.get(k, 0)} {k}" for k in kinds)

    measured = f"resnet50 trtgen: {text(ours)} of {ours.layers} layers"
    if theirs.layers is not None:
        measured += f" (ONNX route: {text(theirs)} of {theirs.layers})"
    return measured, FAIL if any(ours.layer_types.get(k, 0) for k in kinds) else PASS


def _per_model(by_model, field, runs_field, limit):
    """Judge ``trtgen <= limit * ONNX route`` on the medians ``field`` for every model where both
    were measured. A model over the limit whose fastest trtgen run (of ``runs_field``) is within
    the limit of the ONNX route's slowest run is marked "within run-to-run spread"."""
    measured, failing, missing = [], [], []
    for name, result in by_model.items():
        ours, theirs = result.routes["trtgen"], result.routes["onnx"]
        if getattr(ours, field) is None or not getattr(theirs, field):
            missing.append(name)
            continue
        measured.append(f"{name} {getattr(ours, field) / getattr(theirs, field):.2f}×")
        if getattr(ours, field) > limit * getattr(theirs, field):
            fastest, slowest = min(getattr(ours, runs_field)), max(getattr(theirs, runs_field))
            spread = fastest <= limit * slowest
            failing.append(name + (" (within run-to-run spread)" if spread else ""))
    if not measured:
        return "not measured", NOT_MEASURED
    text = ", ".join(measured)
    if missing:
        text += f"; not measured: {', '.join(missing)}"
    if failing:
        return f"{text}; over the limit: {', '.join(failing)}", FAIL
    return text, NOT_MEASURED if missing else PASS


def generation_time(by_model):
    return _per_model(by_model, "convert_s", "convert_runs_s", GENERATION_MAX_RATIO)


def engine_build_time(by_model):
    return _per_model(by_model, "engine_build_s", "engine_build_runs_s", 1.0)


TARGETS = (
    Target(f"ViT-B/16 has at most {VIT_MAX_LAYERS} network layers", vit_layers),
    Target("ResNet-50 (FP32) has no IDENTITY, SHAPE or CAST layers", resnet_plumbing),
    Target(
        "generation takes at most half of torch.onnx.export's time (generation ÷ export per model)",
        generation_time,
    ),
    Target(
        "engine build is no slower than the ONNX route's (trtgen ÷ ONNX build seconds per model)",
        engine_build_time,
    ),
)


def evaluate(results):
    """``[(statement, measured text, verdict)]`` for every target, from a list of BenchResults."""
    by_model = {result.model: result for result in results}
    return [(target.statement, *target.judge(by_model)) for target in TARGETS]
