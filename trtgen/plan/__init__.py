"""Plan: canonical ops and their lowerings, the clean-up passes, and the typed emit plan (one
class per structure, its constructor and its ``forward`` statements)."""
