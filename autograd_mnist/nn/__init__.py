"""Neural-network layers and containers (``autograd_mnist.nn``), PyTorch-style."""

from autograd_mnist.nn import init, utils
from autograd_mnist.nn.activation import ELU, GELU, LeakyReLU, SiLU, Softplus
from autograd_mnist.nn.container import ModuleDict, ModuleList, ParameterList, Sequential
from autograd_mnist.nn.layers import (
    AdaptiveAvgPool2d,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
    Dropout2d,
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
from autograd_mnist.nn.normalization import LayerNorm

__all__ = [
    "ELU",
    "GELU",
    "AdaptiveAvgPool2d",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "Dropout",
    "Dropout2d",
    "Flatten",
    "Identity",
    "IncompatibleKeys",
    "L1Loss",
    "LayerNorm",
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
