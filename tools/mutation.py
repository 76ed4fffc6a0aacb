"""Mutation testing of the modules that hold the county's rules (`make mutation`, not part of `make test`).

Each module is mutated on its own and its mutants are run against that module's own test files only (mutmut
then narrows each mutant to the tests that call the mutated function), so a score says how well the module's
own tests guard its rules. Usage:

    .venv/bin/python tools/mutation.py                 # all of them, in order
    .venv/bin/python tools/mutation.py scoping levels  # some of them

The score is killed / all mutants: a mutant that no test reaches counts as a survivor.
"""

import dataclasses
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORTS = ROOT / "test-artifacts" / "mutation"

# name → (module file, mutant-name globs, its own test files)
MODULES = {
    "scoping": (
        "shenxian_care/scoping.py",
        ["shenxian_care.scoping.*"],
        ["tests/shenxian_care/test_scoping.py", "tests/shenxian_care/test_scoping_leaks.py"],
    ),
    "verification": (
        "services/verification.py",
        ["services.verification.*"],
        ["tests/services/test_verification.py"],
    ),
    # Only the level rules of the registry's selectors (the roster diff has its own import tests).
    "levels": (
        "recipients/selectors.py",
        [
            "recipients.selectors.x_level_from_indicators__*",
            "recipients.selectors.x__latest_approval__*",
            "recipients.selectors.x_level_on__*",
            "recipients.selectors.x_levels_on__*",
            "recipients.selectors.x_level_history__*",
            "recipients.selectors.x_with_level_on__*",
        ],
        ["tests/recipients/test_levels.py"],
    ),
    "reviews": (
        "supervision/selectors/reviews.py",
        ["supervision.selectors.reviews.*"],
        ["tests/supervision/test_reviews.py"],
    ),
    "billing": (
        "billing/calculation.py",
        ["billing.calculation.*"],
        [
            "tests/billing/test_settle.py",
            "tests/billing/test_conservation.py",
            "tests/billing/test_level_totals.py",
            "tests/billing/test_mutation_edges.py",
            "tests/billing/test_windows.py",
        ],
    ),
    # The settlement engine decides the rest of the money from the pure rules above: which frozen month's
    # difference becomes an adjustment, what each provider owes back (deductions, credits, a deficit brought
    # forward), and who is paid how much. Its tests are the settlement tests that reach those rules.
    "engine": (
        "billing/engine.py",
        ["billing.engine.*"],
        [
            "tests/billing/test_settle.py",
            "tests/billing/test_mutation_edges.py",
            "tests/billing/test_payments.py",
            "tests/billing/test_deduction_corrections.py",
            "tests/billing/test_windows.py",
            "tests/billing/test_engine_edges.py",
        ],
    ),
    # Deductions proposed from the month's evidence (missed standard visits, a low town evaluation, no visit).
    "proposals": (
        "billing/proposals.py",
        ["billing.proposals.*"],
        ["tests/billing/test_proposals.py"],
    ),
}

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 36: "timeout", 24: "timeout"}


def _configure(module):
    """Point mutmut at one module and its tests (mutmut reads the rest from [tool.mutmut] in pyproject.toml)."""
    from mutmut import configuration

    path, _, tests = MODULES[module]
    base = configuration._load_config()
    configuration._config = dataclasses.replace(
        base, only_mutate=[path], pytest_add_cli_args_test_selection=[t for t in tests if (ROOT / t).exists()]
    )


def run_one(module):
    """In a child process: mutmut's own `run`, limited to this module's mutants."""
    os.chdir(ROOT)
    _configure(module)
    from mutmut.__main__ import _run

    try:
        _run(MODULES[module][1], max_children=int(os.environ.get("MUTATION_CHILDREN", "2")))
    finally:
        _write_survivors(module)


def _write_survivors(module):
    """The diff of every mutant that survived, for reading (test-artifacts/mutation/<module>.txt)."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    path = MODULES[module][0]
    _, _, survivors, statuses = score(module)
    REPORTS.mkdir(parents=True, exist_ok=True)
    with open(REPORTS / f"{module}.txt", "w", encoding="utf-8") as out:
        for name in survivors:
            out.write(f"# {name}: {statuses[name]}\n")
            try:
                out.write(get_diff_for_mutant(name, path=path) + "\n")
            except Exception as exc:  # noqa: BLE001 - a report line, never a reason to lose the others
                out.write(f"(no diff: {exc})\n")


def score(module):
    path, patterns, _ = MODULES[module]
    meta = ROOT / "mutants" / (path + ".meta")
    codes = json.loads(meta.read_text())["exit_code_by_key"] if meta.exists() else {}
    codes = {k: v for k, v in codes.items() if any(fnmatch.fnmatch(k, p) for p in patterns)}
    statuses = {k: STATUS.get(v, "suspicious" if v is not None else "not checked") for k, v in codes.items()}
    killed = sum(1 for s in statuses.values() if s in ("killed", "timeout"))
    survivors = sorted(k for k, s in statuses.items() if s not in ("killed", "timeout"))
    return killed, len(statuses), survivors, statuses


def main(argv):
    if argv[:1] == ["--one"]:
        run_one(argv[1])
        return 0
    modules = argv or list(MODULES)
    results = []
    template = Path(tempfile.mkdtemp(prefix="mutation-")) / "template.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shenxian_care.settings.test",
        "DATABASE_URL": f"sqlite:///{template}",
    }
    print("== migrating the template database once", flush=True)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)  # noqa: S603
    env = {**os.environ, "MUTATION_TEMPLATE_DB": str(template)}
    env.pop("DATABASE_URL", None)
    for module in modules:
        # A fresh copy per module, so one module's mutants never run against another's tests.
        shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        print(f"== {module}: {MODULES[module][0]}", flush=True)
        subprocess.run([sys.executable, __file__, "--one", module], cwd=ROOT, env=env, check=False)  # noqa: S603
        killed, total, survivors, statuses = score(module)
        results.append((module, killed, total, survivors, statuses))
        for name in survivors:
            print(f"   survived: {name} ({statuses[name]})")
        print(f"   (diffs of the survivors: {REPORTS.relative_to(ROOT)}/{module}.txt)")
    shutil.rmtree(template.parent, ignore_errors=True)
    print("\nMutation score per module (killed / mutants):")
    for module, killed, total, _, _ in results:
        print(f"  {MODULES[module][0]:36} {killed:4}/{total:<4} {100 * killed / max(total, 1):5.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
