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


def _per_model(by_model, ours_theirs, limit, fmt):
    """Judge ``ours <= limit * theirs`` on every model where both were measured."""
    measured, failing, missing = [], [], []
    for name, result in by_model.items():
        ours, theirs = ours_theirs(result)
        if ours is None or not theirs:
            missing.append(name)
            continue
        value = ours / theirs
        measured.append(f"{name} {fmt(value)}")
        if value > limit:
            failing.append(name)
    if not measured:
        return "not measured", NOT_MEASURED
    text = ", ".join(measured)
    if missing:
        text += f"; not measured: {', '.join(missing)}"
    if failing:
        return f"{text}; over the limit: {', '.join(failing)}", FAIL
    return text, NOT_MEASURED if missing else PASS


def generation_time(by_model):
    return _per_model(
        by_model,
        lambda r: (r.routes["trtgen"].convert_s, r.routes["onnx"].convert_s),
        GENERATION_MAX_RATIO,
        lambda v: f"{v:.2f}×",
    )


def engine_build_time(by_model):
    return _per_model(
        by_model,
        lambda r: (r.routes["trtgen"].engine_build_s, r.routes["onnx"].engine_build_s),
        1.0,
        lambda v: f"{v:.2f}×",
    )


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
