"""torch.nn-style module classes: torch-identical constructor signatures and attribute names."""

from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .norm import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .misc import *  # noqa: F401,F403
from .quantized import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
