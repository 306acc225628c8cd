"""HarmScope: decision support for real impact drug enforcement."""

__version__ = "0.1.0"
