"""Utilities named as PyTorch's ``torch.utils``: :mod:`autograd_mnist.utils.data`."""

from autograd_mnist.utils import data

__all__ = ["data"]
