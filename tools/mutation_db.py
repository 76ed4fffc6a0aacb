"""pytest plugin for mutation runs only (tools/mutation.py loads it): every test process starts from a copy of
one migrated SQLite file instead of running the migrations again, which would cost more than the tests of a
mutant. Outside a mutation run (MUTATION_TEMPLATE_DB unset) it does nothing."""

import contextlib
import os
import shutil


def pytest_configure(config):
    template = os.environ.get("MUTATION_TEMPLATE_DB")
    if not template:
        return
    from django.db import connections

    copy = f"{template}.{os.getpid()}"
    shutil.copyfile(template, copy)
    connections["default"].settings_dict.setdefault("TEST", {})["NAME"] = copy
    config.option.reuse_db = True


def pytest_unconfigure(config):
    template = os.environ.get("MUTATION_TEMPLATE_DB")
    if template:
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{template}.{os.getpid()}")
