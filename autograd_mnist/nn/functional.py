"""``torch.nn.functional``'s path: ``am.nn.functional`` is :mod:`autograd_mnist.functional`,
so ``torch.nn.functional.cross_entropy(...)`` and ``import autograd_mnist.nn.functional as
F`` work as written."""

from autograd_mnist.functional import *  # noqa: F403
from autograd_mnist.functional import __all__ as __all__
