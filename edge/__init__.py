"""Mingle's edge gateway: BLE advertisements in, ``readings/<gateway>`` (and, from badges that
report their neighbours, ``contacts/<gateway>``) batches out.

Installs with ``pip install mingle[edge]`` (bleak and paho-mqtt; no numpy, no scikit-learn).
"""
