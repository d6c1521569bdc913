"""CN→EU battery passport gateway."""

__version__ = "0.1.0"
