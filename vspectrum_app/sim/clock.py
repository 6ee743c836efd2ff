"""A virtual clock that the simulator, its pages and the clients share.

Virtual seconds run ``speed`` times faster than real ones from a common epoch, so a
100-video session with 45-second watches takes minutes instead of an hour. Both sides
compute the same time from the same three numbers (the page in JavaScript, with
``Date.now()``), so nothing needs to be synchronised beyond reading ``/api/clock`` once.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class VirtualClock:
    speed: float = 1.0
    real_epoch: float = field(default_factory=time.time)
    virtual_epoch: float = 0.0

    def __post_init__(self) -> None:
        if not self.speed > 0:
            raise ValueError("clock speed must be positive")

    def now(self) -> float:
        return self.virtual_epoch + (time.time() - self.real_epoch) * self.speed

    def real_seconds(self, virtual_seconds: float) -> float:
        return virtual_seconds / self.speed

    def sleep(self, virtual_seconds: float) -> None:
        if virtual_seconds > 0:
            time.sleep(self.real_seconds(virtual_seconds))

    def to_json(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VirtualClock":
        return cls(float(data["speed"]), float(data["real_epoch"]), float(data.get("virtual_epoch", 0.0)))
