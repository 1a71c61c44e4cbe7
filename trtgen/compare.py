"""Numbers for ``trtgen check``: error metrics and the tolerance rule."""

import dataclasses

import torch


@dataclasses.dataclass
class Comparison:
    name: str
    max_abs: float
    rel: float  # max_abs / max(1, max|reference|)
    cosine: float
    ok: bool


def compare(name, got, want, rtol):
    got = torch.as_tensor(got).detach().double().reshape(-1)
    want = torch.as_tensor(want).detach().double().reshape(-1)
    if got.shape != want.shape:
        return Comparison(name, float("inf"), float("inf"), 0.0, False)
    if want.numel() == 0:
        return Comparison(name, 0.0, 0.0, 1.0, True)
    max_abs = (got - want).abs().max().item()
    rel = max_abs / max(1.0, want.abs().max().item())
    denom = got.norm() * want.norm()
    cosine = 1.0 if denom == 0 and torch.equal(got, want) else (got @ want / denom).item() if denom > 0 else 0.0
    return Comparison(name, max_abs, rel, cosine, bool(rel <= rtol))


def table(rows):
    lines = [f"{'output':<32} {'max abs err':>12} {'rel err':>10} {'cosine':>10}  result"]
    for r in rows:
        lines.append(f"{r.name:<32} {r.max_abs:>12.3e} {r.rel:>10.3e} {r.cosine:>10.6f}  {'ok' if r.ok else 'FAIL'}")
    return "\n".join(lines)
