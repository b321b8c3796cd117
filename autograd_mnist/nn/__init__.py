"""Neural-network layers and containers (``autograd_mnist.nn``), PyTorch-style."""

from autograd_mnist.nn import init, utils
from autograd_mnist.nn.activation import ELU, GELU, LeakyReLU, SiLU, Softplus
from autograd_mnist.nn.container import ModuleDict, ModuleList, ParameterList, Sequential
from autograd_mnist.nn.layers import (
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    Linear,
    LogSoftmax,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from autograd_mnist.nn.loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
)
from autograd_mnist.nn.module import IncompatibleKeys, Module, Parameter, StateDictError

__all__ = [
    "ELU",
    "GELU",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "Linear",
    "LeakyReLU",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ParameterList",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "Softmax",
    "Softplus",
    "StateDictError",
    "Tanh",
    "init",
    "utils",
]
