"""Tracker adapters, installed as the package ``syncd_adapters``."""
