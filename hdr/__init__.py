"""HDR: handwritten digit recognition, from any picture to a fast, well-measured prediction."""

__version__ = "0.1.0"
