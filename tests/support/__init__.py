"""Test support: a client over the real dispatch, a controllable clock, a runner process."""
