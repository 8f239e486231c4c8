"""How the service's commands (``serve``, ``worker``, ``reconcile``, ``shops``, the privacy
commands) report a problem: one line per problem on stderr, prefixed with the command, exit code 1.
"""

from __future__ import annotations

import sys

from ..core.errors import AftersaleKitError, ConfigError

__all__ = ["report_failure"]


def report_failure(prog: str, exc: AftersaleKitError) -> int:
    """Print ``exc`` for the command ``prog`` (every problem of a config error); return 1."""
    if isinstance(exc, ConfigError):
        for problem in exc.problems:
            print(f"{prog}: {problem}", file=sys.stderr)
    else:
        print(f"{prog}: {exc}", file=sys.stderr)
    return 1
