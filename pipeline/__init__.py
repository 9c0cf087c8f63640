"""Mingle's detection pipeline: readings in, frames and alerts out.

Pure, synchronous cores under :mod:`pipeline.core`, composed by one ``step()``; the
simulator under :mod:`pipeline.sim`; replay and evaluation as modules beside them.
"""
