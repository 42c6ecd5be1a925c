"""The environment pytest started with, as a user's `make up` sees it: what the e2e suite's local clouds and
operator commands get, without the settings tests/conftest.py gives the in-process tests (``set_default``).

Two ways those settings would leak in: pytest loads conftest.py as ``conftest`` and an import by name loads it
again as ``tests.conftest``, by then with its settings in the environment (so this is its own module, loaded
once); and xdist starts its workers with the environment of the controller, which has loaded conftest.py (so
the names it added travel with it, in ``ADDED``, and are taken off again)."""

import os

ADDED = "DESKOS_TESTS_ADDED"  # the names set_default added to the environment, comma-separated


def _as_pytest_started() -> dict[str, str]:
    environment = dict(os.environ)
    for name in environment.pop(ADDED, "").split(","):
        environment.pop(name, None)
    return environment


USER_ENVIRONMENT = _as_pytest_started()


def set_default(name: str, value: str) -> None:
    """``os.environ.setdefault`` that remembers what it added."""
    if name not in os.environ:
        os.environ[name] = value
        os.environ[ADDED] = ",".join(filter(None, [os.environ.get(ADDED), name]))
