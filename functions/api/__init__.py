"""API entry points: one module per domain. Each module's resolver is the source of its routes;
in the cloud every route becomes its own Lambda with the module's ``handler``."""

from functions import lazy_packages

lazy_packages.install()  # before any domain module imports Powertools' event handler
