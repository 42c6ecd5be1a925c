"""The environment pytest started with, as a user's `make up` sees it: what the e2e suite's local clouds and
operator commands get. Its own module, imported by tests/conftest.py before that sets the in-process tests'
settings: pytest loads conftest.py as ``conftest`` and an import by name loads it again as ``tests.conftest``
(by then with those settings in the environment), whereas this module is loaded once."""

import os

USER_ENVIRONMENT = dict(os.environ)
