"""Numbers for ``trtgen check``: error metrics and the tolerance rule."""

import dataclasses
import math

import torch


@dataclasses.dataclass
class Comparison:
    name: str
    max_abs: float
    rel: float  # max_abs / max(1, max|reference|)
    cosine: float
    ok: bool
    sqnr: float = float("inf")  # dB: 10 log10(|want|^2 / |got - want|^2)
    # positions where one side is NaN or infinite and the other is not the same value
    nonfinite_mismatches: int = 0


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """What ``trtgen check`` accepts; a bound of None is not checked."""

    rtol: float = None  # max |got - want| / max(1, max |want|)
    min_cosine: float = None

    def accepts(self, rel, cosine):
        return (self.rtol is None or rel <= self.rtol) and (
            self.min_cosine is None or cosine >= self.min_cosine
        )

    def describe(self):
        parts = [f"rel err <= {self.rtol:g}"] if self.rtol is not None else []
        parts += [f"cosine >= {self.min_cosine:g}"] if self.min_cosine is not None else []
        return " and ".join(parts)


# by the network's number format: reduced floats round every layer's output; quantized
# networks are judged against FP32 PyTorch by direction only (cosine per output)
TOLERANCES = {
    "fp32": Tolerance(rtol=1e-4),
    "fp16": Tolerance(rtol=1e-2, min_cosine=0.999),
    "bf16": Tolerance(rtol=1e-2, min_cosine=0.999),
    "int8": Tolerance(min_cosine=0.99),
    "fp8": Tolerance(min_cosine=0.99),
    "weight-only int8": Tolerance(min_cosine=0.99),
    "weight-only int4": Tolerance(min_cosine=0.99),
}


def tolerance_for(manifest, rtol=None, min_cosine=None):
    """The default for OUT's precision (its quantization first), with either bound overridden."""
    kind = manifest.get("quant") or manifest.get("precision") or "fp32"
    # an imported model can mix formats ("int8 + weight-only int4"): they share one tolerance
    base = TOLERANCES[kind.split(" + ")[0]]
    return Tolerance(
        base.rtol if rtol is None else rtol, base.min_cosine if min_cosine is None else min_cosine
    )


def compare(name, got, want, tolerance):
    """``tolerance``: a Tolerance, or a float (a relative-error bound alone)."""
    if not isinstance(tolerance, Tolerance):
        tolerance = Tolerance(rtol=tolerance)
    want = torch.as_tensor(want).detach()
    exact = not (want.is_floating_point() or want.is_complex())  # ids, indices, masks, counts
    got = torch.as_tensor(got).detach().double().reshape(-1)
    want = want.double().reshape(-1)
    if got.shape != want.shape:
        return Comparison(name, float("inf"), float("inf"), 0.0, False)
    # NaN and ±inf match where both sides have the same one (log of a negative input); the
    # metrics are over the finite rest
    finite = torch.isfinite(got) & torch.isfinite(want)
    same = (got == want) | (torch.isnan(got) & torch.isnan(want))
    mismatches = int((~finite & ~same).sum())
    got, want = got[finite], want[finite]
    if want.numel() == 0:
        return Comparison(name, 0.0, 0.0, 1.0, mismatches == 0, nonfinite_mismatches=mismatches)
    max_abs = (got - want).abs().max().item()
    rel = max_abs / max(1.0, want.abs().max().item())
    denom = got.norm() * want.norm()
    cosine = (
        1.0
        if denom == 0 and torch.equal(got, want)
        else (got @ want / denom).item() if denom > 0 else 0.0
    )
    noise = (got - want).pow(2).sum().item()
    sqnr = (
        float("inf")
        if noise == 0
        else 10 * math.log10(max(want.pow(2).sum().item(), 1e-300) / noise)
    )
    ok = (max_abs == 0 if exact else bool(tolerance.accepts(rel, cosine))) and mismatches == 0
    return Comparison(name, max_abs, rel, cosine, ok, sqnr, mismatches)


def table(rows):
    lines = [f"{'output':<32} {'max abs err':>12} {'rel err':>10} {'cosine':>10}  result"]
    for r in rows:
        result = "ok" if r.ok else "FAIL"
        if r.nonfinite_mismatches:
            result += f" ({r.nonfinite_mismatches} positions NaN/inf on one side only)"
        lines.append(f"{r.name:<32} {r.max_abs:>12.3e} {r.rel:>10.3e} {r.cosine:>10.6f}  {result}")
    return "\n".join(lines)
