from feedback.services import corrections, incorporation, taxonomy

__all__ = ["corrections", "incorporation", "taxonomy"]
