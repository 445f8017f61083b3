"""Flag installed packages with known vulnerabilities.

Tries `pip-audit` against the package index first; where that route is unavailable (these
machines reach the index for downloads only), checks the installed versions against the offline
database in security/advisories.json. Exits 1 when anything is vulnerable.

    python security/audit.py [--offline]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.version import Version

DATABASE = Path(__file__).with_name("advisories.json")


def installed() -> dict[str, str]:
    return {dist.metadata["Name"].lower().replace("_", "-"): dist.version for dist in metadata.distributions()}


def offline_findings(versions: dict[str, str], database: Path = DATABASE) -> list[str]:
    """Advisories whose package is installed below the fixed version."""
    findings = []
    for advisory in json.loads(database.read_text())["advisories"]:
        version = versions.get(advisory["package"])
        if version is not None and Version(version) < Version(advisory["fixed"]):
            findings.append(
                f"{advisory['package']} {version}: {advisory['id']} (fixed in {advisory['fixed']}) "
                f"- {advisory['summary']}"
            )
    return findings


def online() -> int | None:
    """pip-audit's verdict (0 clean, 1 vulnerable), or None when it could not ask the index."""
    result = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--strict"], capture_output=True, text=True
    )
    if "could not be audited" in result.stdout + result.stderr or result.returncode not in (0, 1):
        return None
    sys.stdout.write(result.stdout)
    return result.returncode


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--offline", action="store_true", help="skip pip-audit; use the local database only")
    args = parser.parse_args()
    verdict = None if args.offline else online()
    if verdict is not None:
        return verdict
    versions = installed()
    findings = offline_findings(versions)
    print(
        f"offline audit of {len(versions)} installed packages against {DATABASE.name}: {len(findings)} known vulnerable"
    )
    for finding in findings:
        print("  " + finding)
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
