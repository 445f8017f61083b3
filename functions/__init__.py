"""Kiroshi's functions: one module per endpoint, each exposing `handler(call)`; see routes.py."""
