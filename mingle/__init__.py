"""The ``mingle`` command line: one entry point for gateway, pipeline and dashboard."""

__version__ = "0.1.0"
