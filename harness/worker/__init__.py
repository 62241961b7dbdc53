"""Runs inside a row's environment, on the row's Python (3.8 included); heavy libraries import lazily."""
