"""What an engine hands back to ``solve``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class Outcome:
    """``bound`` is in objective units and valid for the full problem, or None when proven optimal."""

    assignment: NDArray[np.int64]
    bound: float | None
    status: str
    engine: str
    bound_source: str = "optimal"
