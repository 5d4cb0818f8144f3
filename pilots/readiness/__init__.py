"""The hub's checks (DESIGN.md checks table), discovered like every app's readiness module."""

from pilots.readiness import inputs, integration, ownership

__all__ = ["inputs", "integration", "ownership"]
