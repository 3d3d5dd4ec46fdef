"""ARROW inventory agent: collects a device's hardware facts and submits them.

Standard library only: it runs in a bare ramdisk with nothing but Python 3.11.
"""

__version__ = "0.1.0"
