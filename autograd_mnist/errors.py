"""The error of the training stack that a user can fix, shared by models, runs and the CLI.

It lives in its own module, below everything that raises it (model factory, run config,
data checks, checkpoints), so that none of those has to import another to raise it. The
CLI prints it as one line and exits with 2.
"""

from __future__ import annotations

__all__ = ["RunError"]


class RunError(Exception):
    """A problem the user can fix: a missing run folder, a bad checkpoint, a bad option."""
