"""ARROW inventory agent: collects a device's hardware facts and submits them. Standard library only."""

__version__ = "0.1.0"
