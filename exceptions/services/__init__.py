from exceptions.services import queue, refinement, routing, rules, service_levels

__all__ = ["queue", "refinement", "routing", "rules", "service_levels"]
