"""What every area of the sandbox world (state_*.py) has in common.

An area owns its part of the state and reaches the rest (the one lock, the clock, the settings,
the apps and the other areas) through the `SandboxState` it belongs to, which composes them.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .state import SandboxState


class Area:
    """One WeChat area's part of the world; its public methods take the world's lock."""

    def __init__(self, world: "SandboxState"):
        self.world = world
        self.clear()

    def clear(self) -> None:
        """Forget this area's part of the world (lock held); `SandboxState.reset` calls it."""
        raise NotImplementedError

    def summary(self) -> dict:
        """This area's counts for `GET /__admin/state` (lock held)."""
        return {}
