"""The served OpenAPI document, fuzzed with schemathesis (a CI-sized run; `make fuzz` runs the full one)."""

from __future__ import annotations

import pytest

from tests.support.fuzz import fuzz

pytestmark = pytest.mark.e2e


def test_no_server_error_and_no_answer_that_breaks_the_document() -> None:
    passed, generated, report = fuzz(max_examples=8)

    assert passed, report[-8000:]
    assert generated >= 1000
