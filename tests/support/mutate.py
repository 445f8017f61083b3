"""Mutation testing of the core: `make mutate`, or `python -m tests.support.mutate [module ...]`.

Each core module is mutated by mutmut ([tool.mutmut] in pyproject.toml) in a scratch copy of the
tree (.mutmut/<module>/, git-ignored, made afresh on every run) and tested by its targeted tests
only, one module at a time. A table then gives each module's mutants, the killed ones, the known
equivalent ones (EQUIVALENT below, each with its reason) and the score, killed / (mutants -
equivalent); every other survivor follows as its diff. Exits 1 when a module scores under 90 %.
Slow (minutes per module) and not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.stats import status_by_exit_code

ROOT = Path(__file__).resolve().parents[2]
SCRATCH = ROOT / ".mutmut"
MUTMUT = Path(sys.executable).parent / "mutmut"
COPIED = ["lib", "functions", "local_runner", "tests", "main.py", "lambda_handlers.py"]
THRESHOLD = 90.0


@dataclass(frozen=True)
class Target:
    source: str
    tests: tuple[str, ...]


UNIT = "tests/unit"
SUBSCRIPTIONS = f"{UNIT}/functions/subscriptions"
USERS = f"{UNIT}/functions/users"
CHATS = f"{UNIT}/functions/chats"

# Each core module and the tests that target it (mutmut runs, for each mutant, those of them that
# call the mutated function).
TARGETS = {
    "money": Target(
        "lib/billing/money.py",
        (f"{UNIT}/lib/test_money.py", f"{SUBSCRIPTIONS}/test_exact_prices.py", f"{UNIT}/functions/plans"),
    ),
    "periods": Target(
        "lib/billing/periods.py",
        (f"{UNIT}/lib/test_billing.py", f"{SUBSCRIPTIONS}/test_refund.py", f"{SUBSCRIPTIONS}/test_buy.py"),
    ),
    "tokens": Target(
        "lib/auth/tokens.py",
        (f"{UNIT}/lib/test_tokens.py", f"{USERS}/test_login.py", f"{USERS}/test_logout.py", f"{USERS}/test_changes.py"),
    ),
    "policies": Target(
        "lib/auth/policies.py",
        (
            f"{UNIT}/lib/test_policies.py",
            f"{UNIT}/test_routes.py::test_the_auth_matrix",
            f"{SUBSCRIPTIONS}/test_refund.py::test_only_the_owner_or_an_admin_refunds",
            f"{UNIT}/functions/subscribers",
        ),
    ),
    "purchases": Target(
        "lib/billing/purchases.py",
        (
            f"{SUBSCRIPTIONS}/test_buy.py",
            f"{SUBSCRIPTIONS}/test_refund.py",
            f"{SUBSCRIPTIONS}/test_failures.py",
            f"{SUBSCRIPTIONS}/test_plan_limits.py",
            f"{SUBSCRIPTIONS}/test_tombstones.py",
            f"{SUBSCRIPTIONS}/test_concurrency.py",
            f"{UNIT}/functions/subscribers",
        ),
    ),
    "accounts": Target("lib/accounts/rules.py", (f"{UNIT}/lib/test_account_rules.py", USERS)),
    "quota": Target(
        "lib/chats/quota.py",
        (
            f"{UNIT}/lib/test_quota.py",
            f"{CHATS}/test_session_quota.py",
            f"{UNIT}/functions/compat/test_quota_and_limits.py",
        ),
    ),
    "history": Target(
        "lib/chats/history.py",
        (f"{UNIT}/lib/test_history.py", f"{CHATS}/test_chats.py", f"{CHATS}/test_session_quota.py"),
    ),
}

# Mutants no test can kill, because the mutated program behaves the same: (module, function, the
# line it removes, the line it adds) -> why. Keyed by text, not by mutmut's numbering, so that an
# edit to the line shows the mutant again for review.
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    (
        "money",
        "parse_amount",
        "exact = Context(prec=len(amount.as_tuple().digits) + MINOR_UNITS[currency] + 1)",
        "exact = Context(prec=len(amount.as_tuple().digits) + MINOR_UNITS[currency] + 2)",
    ): "scaleb only moves the exponent: any precision of at least the amount's digits is exact",
    (
        "periods",
        "next_period",
        "start = paid_until if paid_until is not None and paid_until > now else now",
        "start = paid_until if paid_until is not None and paid_until >= now else now",
    ): "when paid_until == now, both branches start the period at the same instant",
    (
        "tokens",
        "TokenCodec.issue",
        "return jwt.encode(payload, self._key, algorithm=ALGORITHM), claims",
        "return jwt.encode(payload, self._key, ), claims",
    ): "pyjwt signs with HS256 by default, the pinned algorithm (verify pins it on the way in)",
    (
        "quota",
        "Quotas.reserve",
        "cache.add(key, -tokens, RESERVATION_TTL_SECONDS)",
        "cache.add(key, -tokens, None)",
    ): "the key was written by this call's own add just before: both caches give a TTL to new keys only",
    (
        "history",
        "TurnCache._put",
        "self._chats.popitem(last=False)",
        "self._chats.popitem(last=None)",
    ): "popitem reads `last` for its truth: None pops the oldest, as False does",
}


@dataclass
class Outcome:
    module: str
    statuses: dict[str, str] = field(default_factory=dict)  # mutant name -> mutmut's status
    diffs: dict[str, tuple[str, str]] = field(default_factory=dict)  # survivor -> (removed, added)
    equivalent: dict[str, str] = field(default_factory=dict)  # survivor -> reason
    error: str | None = None

    @property
    def killed(self) -> int:
        return sum(1 for status in self.statuses.values() if _detected(status))

    @property
    def score(self) -> float:
        counted = len(self.statuses) - len(self.equivalent)
        return 100.0 * self.killed / counted if counted else 100.0

    @property
    def survivors(self) -> list[str]:
        return [m for m, s in self.statuses.items() if not _detected(s) and m not in self.equivalent]


def _detected(status: str) -> bool:
    return status in ("killed", "timeout", "caught by type check")


def _prepare(name: str, target: Target) -> Path:
    """A fresh copy of the tree whose pyproject.toml mutates `target.source` against its tests."""
    work = SCRATCH / name
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".mutmut")
    for entry in COPIED:
        source = ROOT / entry
        if source.is_dir():
            shutil.copytree(source, work / entry, ignore=ignore)
        elif source.exists():
            shutil.copy2(source, work / entry)
    text = (ROOT / "pyproject.toml").read_text()
    settings = tomllib.loads(text)["tool"]["mutmut"]
    tests = [t for t in target.tests if (work / t.split("::")[0]).exists()]
    settings |= {"only_mutate": [target.source], "pytest_add_cli_args_test_selection": tests}
    kept = re.sub(r"(?ms)^\[tool\.mutmut\]\n.*?(?=^\[|\Z)", "", text)
    table = "\n".join(f"{key} = {json.dumps(value)}" for key, value in settings.items())
    (work / "pyproject.toml").write_text(f"{kept.rstrip()}\n\n[tool.mutmut]\n{table}\n")
    return work


def _diff(work: Path, mutant: str) -> tuple[str, str]:
    shown = subprocess.run([MUTMUT, "show", mutant], cwd=work, capture_output=True, text=True, check=False).stdout
    lines = shown.splitlines()
    removed = [ln[1:].strip() for ln in lines if ln.startswith("-") and not ln.startswith("---")]
    added = [ln[1:].strip() for ln in lines if ln.startswith("+") and not ln.startswith("+++")]
    return " / ".join(removed), " / ".join(added)


def _function(mutant: str, source: str) -> str:
    """`lib.billing.money.x_parse_amount__mutmut_3` -> `parse_amount`; a method -> `Class.method`."""
    module = source.removesuffix(".py").replace("/", ".")
    local = mutant.removeprefix(module + ".").rsplit("__mutmut_", 1)[0]
    return local.removeprefix("x_").removeprefix("xǁ").replace("ǁ", ".")


def _run(name: str, target: Target, jobs: int) -> Outcome:
    outcome = Outcome(name)
    work = _prepare(name, target)
    log = work / "mutmut.log"
    with log.open("w") as out:
        done = subprocess.run([MUTMUT, "run", "--max-children", str(jobs)], cwd=work, stdout=out, stderr=out)
    meta = work / "mutants" / f"{target.source}.meta"
    if done.returncode != 0 or not meta.exists():
        outcome.error = f"mutmut failed (exit {done.returncode}): see {log.relative_to(ROOT)}"
        return outcome
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    outcome.statuses = {mutant: status_by_exit_code[code] for mutant, code in codes.items()}
    for mutant, status in outcome.statuses.items():
        if _detected(status):
            continue
        removed, added = outcome.diffs[mutant] = _diff(work, mutant)
        reason = EQUIVALENT.get((name, _function(mutant, target.source), removed, added))
        if reason is not None:
            outcome.equivalent[mutant] = reason
    return outcome


def _report(outcomes: list[Outcome]) -> None:
    print(f"\n{'module':<10} {'mutants':>7} {'killed':>6} {'equiv.':>6} {'survived':>8} {'score':>7}")
    for o in outcomes:
        if o.error:
            print(f"{o.module:<10} {o.error}")
            continue
        row = f"{len(o.statuses):>7} {o.killed:>6} {len(o.equivalent):>6} {len(o.survivors):>8} {o.score:>6.1f}%"
        print(f"{o.module:<10} {row}")
    for o in outcomes:
        source = TARGETS[o.module].source
        for mutant in o.survivors:
            removed, added = o.diffs[mutant]
            print(f"\n{o.statuses[mutant].upper()} {mutant}  ({_function(mutant, source)})\n  - {removed}\n  + {added}")
        for mutant, reason in o.equivalent.items():
            print(f"\nequivalent {mutant}: {reason}\n  - {o.diffs[mutant][0]}\n  + {o.diffs[mutant][1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", help=f"some of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--jobs", type=int, default=2, help="mutants tested at once (default 2)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(TARGETS))
    if unknown:
        parser.error(f"no core module {', '.join(unknown)}; the core modules: {', '.join(TARGETS)}")
    os.nice(10)  # a background job: the machine is shared
    outcomes = []
    for name in args.modules or list(TARGETS):
        started = time.monotonic()
        print(f"mutating {TARGETS[name].source} ...", flush=True)
        outcomes.append(_run(name, TARGETS[name], args.jobs))
        print(f"  {time.monotonic() - started:.0f} s", flush=True)
    _report(outcomes)
    return 0 if all(o.error is None and o.score >= THRESHOLD for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
