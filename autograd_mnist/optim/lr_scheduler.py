"""PyTorch's import path for the learning-rate schedules:
``from autograd_mnist.optim.lr_scheduler import StepLR`` works as
``from torch.optim.lr_scheduler import StepLR`` does. The schedules live in
:mod:`autograd_mnist.optim.schedulers`; this module only names them again.
"""

from autograd_mnist.optim.schedulers import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    StepLR,
)

__all__ = [
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "MultiStepLR",
    "OneCycleLR",
    "StepLR",
]
