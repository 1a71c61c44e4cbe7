"""Constructor templates of the emit plan: literal slots and constructor calls."""

import dataclasses


class _Any:
    """The value of a slot in an instance where that part of the constructor does not exist."""

    def __repr__(self):
        return "ANY"


ANY = _Any()


@dataclasses.dataclass
class Slot:
    """A literal in a constructor template; becomes a parameter when instances disagree."""

    value: object


@dataclasses.dataclass
class Ctor:
    callee: str
    args: list  # [(keyword or None, Slot | Ctor | list | OrderedDict)]
