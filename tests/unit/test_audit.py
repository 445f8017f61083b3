from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "security"))

from audit import DATABASE, offline_findings  # noqa: E402


def test_the_offline_database_flags_vulnerable_versions_and_passes_fixed_ones(tmp_path: Path) -> None:
    findings = offline_findings({"pyjwt": "2.3.0", "werkzeug": "3.1.9", "jinja2": "3.1.4"})

    assert sorted(f.split(":")[0] for f in findings) == ["jinja2 3.1.4"] * 3 + ["pyjwt 2.3.0"] * 2
    assert offline_findings({"pyjwt": "2.15.1"}) == []


def test_every_advisory_names_a_package_an_id_and_a_fixed_version() -> None:
    for advisory in json.loads(DATABASE.read_text())["advisories"]:
        assert set(advisory) == {"package", "id", "fixed", "summary"}
        assert advisory["package"] == advisory["package"].lower()
