"""Alpaca Course: the Stanford Alpaca recipe, offline on a CPU, one pipeline stage per module."""

from .versions import COURSE_VERSION as __version__

__all__ = ["__version__"]
