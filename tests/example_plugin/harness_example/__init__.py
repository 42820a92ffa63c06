"""An example third-party plugin for alignment-harness (see ``plugin.py``)."""

__version__ = "0.1.0"
