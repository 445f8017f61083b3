"""Shared code of every function, by capability."""

__version__ = "0.1.0"  # pyproject.toml's version (a test keeps them equal); OpenAPI's info.version
