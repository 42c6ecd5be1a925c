"""API entry points: one module per domain. Each module's resolver is the source of its routes;
in the cloud every route becomes its own Lambda with the module's ``handler``."""
