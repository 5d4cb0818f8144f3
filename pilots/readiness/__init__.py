"""The hub's checks (DESIGN.md checks table) and its snapshot figures, discovered like every app's
readiness module."""

from pilots.readiness import figures, inputs, integration, ownership

__all__ = ["figures", "inputs", "integration", "ownership"]
