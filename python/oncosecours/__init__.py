"""OncoSecours: the emergency chemotherapy circuit when Chimio is down."""

__version__ = "0.1.0"
