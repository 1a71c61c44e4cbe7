"""torch.nn.functional-style ops over the TensorRT network API, one module per op family.

Every op adds its layers to the active network (``layers.net_guard``), names them after the
current module path, and returns ``Tensor`` handles. Signatures follow torch.
"""

from .cast import *  # noqa: F401,F403

from .constant import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .unary import *  # noqa: F401,F403
from .bitwise import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403
from .scatter import *  # noqa: F401,F403
from .views import *  # noqa: F401,F403
from .vector import *  # noqa: F401,F403
from .bags import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .pad import *  # noqa: F401,F403
from .qdq import *  # noqa: F401,F403
from .resize import *  # noqa: F401,F403
from .sampling import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pool import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .similarity import *  # noqa: F401,F403
from .plugin import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
