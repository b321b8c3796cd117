"""Optimizers, weight penalties and learning-rate schedules (``autograd_mnist.optim``).

- :mod:`~autograd_mnist.optim.optimizers`: :class:`Optimizer` and the update rules (SGD,
  Momentum, Adagrad, Adadelta, RMSprop, Adam, AdamW) with their CLI names in :data:`OPTIMIZERS`;
- :func:`blockwise` (with :data:`BLOCK`, :data:`PARALLEL_MIN`, :data:`LIGHT_PARALLEL_MIN`,
  :func:`cores`): the cache-blocked, multi-threaded kernel the largest updates run through;
- :func:`penalty`: L1/L2 weight penalties to add to the loss (R4);
- :mod:`~autograd_mnist.optim.lr_scheduler` (PyTorch's module name): :class:`StepLR`,
  :class:`MultiStepLR`, :class:`ExponentialLR`, :class:`CosineAnnealingLR`,
  :class:`LambdaLR`, :class:`LinearLR`, :class:`ConstantLR`, :class:`PolynomialLR`,
  :class:`CosineAnnealingWarmRestarts`, :class:`SequentialLR` (per epoch),
  :class:`ReduceLROnPlateau` (per epoch, with the metric), :class:`OneCycleLR` (per
  optimizer step);
- :mod:`~autograd_mnist.optim.swa_utils`: :class:`AveragedModel` and
  :func:`get_ema_multi_avg_fn`, an exponential moving average of a model's weights.
"""

from autograd_mnist.optim import lr_scheduler
from autograd_mnist.optim._blockwise import (
    BLOCK,
    LIGHT_PARALLEL_MIN,
    PARALLEL_MIN,
    blockwise,
    cores,
)
from autograd_mnist.optim.lr_scheduler import (
    ConstantLR,
    CosineAnnealingLR,
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    OneCycleLR,
    PolynomialLR,
    ReduceLROnPlateau,
    SequentialLR,
    StepLR,
)
from autograd_mnist.optim.optimizers import (
    OPTIMIZERS,
    SGD,
    Adadelta,
    AdaGrad,
    Adagrad,
    Adam,
    AdamW,
    Momentum,
    Optimizer,
    RMSProp,
    RMSprop,
)
from autograd_mnist.optim.penalties import penalty
from autograd_mnist.optim.swa_utils import (
    AveragedModel,
    get_ema_multi_avg_fn,
    get_swa_multi_avg_fn,
)

__all__ = [
    "BLOCK",
    "LIGHT_PARALLEL_MIN",
    "OPTIMIZERS",
    "PARALLEL_MIN",
    "SGD",
    "AdaGrad",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "AveragedModel",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "Momentum",
    "OneCycleLR",
    "Optimizer",
    "PolynomialLR",
    "RMSProp",
    "RMSprop",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
    "blockwise",
    "cores",
    "get_ema_multi_avg_fn",
    "get_swa_multi_avg_fn",
    "lr_scheduler",
    "penalty",
]
