"""Shared code of every function, by capability."""
