"""Function transforms with ``torch.autograd.functional``'s signatures and semantics.

``vjp``, ``jvp``, ``vhp`` and ``hvp`` return ``(func_output, product)``; ``jacobian`` and
``hessian`` return the whole matrix, shaped ``output.shape + input.shape`` (tuples of
blocks for tuple inputs or outputs). ``inputs`` and ``v`` are a Tensor or a tuple of
Tensors, and results follow the same form. Each transform works on fresh copies of the
inputs (the caller's tensors and their ``.grad`` are untouched); results are detached
unless ``create_graph=True``, which makes them differentiable to any order. ``strict=True``
raises where a result would be zeros only because an output does not depend on an input.

Example:
    >>> import autograd_mnist as am
    >>> x = am.tensor([1.0, 2.0], dtype=am.float64)
    >>> am.func.hessian(lambda x: (x**3).sum(), x)       # diag(6 x)
    tensor([[ 6.,  0.],
            [ 0., 12.]], dtype=float64)
"""

from autograd_mnist.func._jacobian import hessian, jacobian
from autograd_mnist.func._products import hvp, jvp, vhp, vjp

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]
