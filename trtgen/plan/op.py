"""``Op``: one call in the model, in trtgen's canonical spelling (see ``normalize``)."""

import dataclasses


@dataclasses.dataclass
class Op:
    name: str
    args: tuple
    kwargs: dict
    method: bool  # written as ``x.name(...)`` in the model
