"""The project's benchmark targets, each judged from measured results (never written by hand)."""

import dataclasses

from scipy.stats import binomtest

PASS, FAIL, NOT_MEASURED = "PASS", "FAIL", "NOT MEASURED"
VIT_MAX_LAYERS = 350
GENERATION_MAX_RATIO = 0.5
SIGNIFICANCE = 0.05  # of the sign test that tells a slower route from run-to-run noise


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


def sign_test(ours_runs, theirs_runs, limit):
    """``(rounds over, rounds compared, p)``: in how many rounds the trtgen run took longer than
    ``limit`` times the ONNX route's run of the same round (the routes alternate, so a round's
    two runs see the same machine), and the one-sided sign-test p-value of that count if each
    round were as likely to come out under the limit as over it. Tied rounds are left out."""
    pairs = [(ours, limit * theirs) for ours, theirs in zip(ours_runs, theirs_runs)]
    pairs = [(ours, theirs) for ours, theirs in pairs if ours != theirs]
    over = sum(ours > theirs for ours, theirs in pairs)
    if not pairs:
        return 0, 0, 1.0
    return over, len(pairs), binomtest(over, len(pairs), 0.5, alternative="greater").pvalue


def _judge_excess(ours_runs, theirs_runs, limit):
    """``(counts as over the limit, why)`` for a model whose median is over the limit.

    Given enough rounds for a sign test to tell a real difference from run-to-run noise, only
    a significant excess counts; with fewer, the median decides."""
    over, rounds, p = sign_test(ours_runs, theirs_runs, limit)
    if 0.5**rounds > SIGNIFICANCE:  # even "over in every round" would prove nothing
        return True, f"median over; too few rounds for a sign test: {rounds}"
    if p < SIGNIFICANCE:
        return True, f"over in {over} of {rounds} rounds, sign test p={p:.3f}"
    return False, f"over in {over} of {rounds} rounds: run-to-run noise, sign test p={p:.2f}"


def _per_model(by_model, field, runs_field, limit):
    """Judge ``trtgen <= limit * ONNX route`` for every model where both were measured."""
    measured, failing, missing = [], [], []
    for name, result in by_model.items():
        ours, theirs = result.routes["trtgen"], result.routes["onnx"]
        if getattr(ours, field) is None or not getattr(theirs, field):
            missing.append(name)
            continue
        text = f"{name} {getattr(ours, field) / getattr(theirs, field):.2f}×"
        if getattr(ours, field) > limit * getattr(theirs, field):
            counts, why = _judge_excess(
                getattr(ours, runs_field), getattr(theirs, runs_field), limit
            )
            if counts:
                failing.append(f"{name} ({why})")
            else:
                text += f" ({why})"
        measured.append(text)
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
