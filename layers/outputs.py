"""``ModelOutput``: what transformers-style modules return, readable by name, attribute or position."""


class ModelOutput(dict):
    """A dict whose values are also reachable as attributes and by integer position.

    Mirrors ``transformers.utils.ModelOutput`` so generated code can say ``out.last_hidden_state``,
    ``out["last_hidden_state"]`` or ``out[0]`` exactly as the PyTorch model does.
    """

    def __getitem__(self, key):
        if isinstance(key, (int, slice)):
            return self.to_tuple()[key]
        return super().__getitem__(key)

    def __getattr__(self, name):
        # like transformers: a field the module did not set reads as None
        if name.startswith("__"):
            raise AttributeError(name)
        return self.get(name)

    def to_tuple(self):
        return tuple(v for v in self.values() if v is not None)
