"""Shared by host and worker: Python 3.8 and the standard library alone at import time."""
