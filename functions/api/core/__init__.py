"""The plumbing every API domain module shares; the modules beside this package are the domains.

``resolver`` (the ``Api`` a domain declares its routes on, their role guard and the entry point),
``problems`` (RFC 9457 answers and how the contract documents them), ``limits`` (bodies no route accepts),
``observability`` (the Logger, Metrics and the entry point's decorator stack).
"""

from functions.api.core.observability import logger, metrics
from functions.api.core.resolver import Api

__all__ = ["Api", "logger", "metrics"]
