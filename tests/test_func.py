"""autograd_mnist.func against central differences (float64) and against
torch.autograd.functional, over argument forms (Tensor or tuple inputs and outputs, v
given or not, create_graph, strict), shapes and values; on reference networks too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_mnist as am
from autograd_mnist import func
from autograd_mnist.tensor import Tensor

EPS = 1e-6  # central-difference step: in float64 the error is ~1e-9 relative
RTOL, ATOL = 1e-6, 1e-8
TORCH_TOL = 1e-10  # the same maths in float64: agreement to rounding


# ----- the functions: written with methods both libraries have -----
def _tanh_x(x: Any) -> Any:
    return x.tanh() * x


def _sin_sq_sum(x: Any) -> Any:
    return (x.sin() * x**2).sum()


def _two_outputs(x: Any, y: Any) -> Any:
    return x * y.sin(), (x.exp() * y).sum()


def _exp_tanh_sum(x: Any, y: Any) -> Any:
    return (x.exp() * y.tanh()).sum() + (x**2 * y**3).sum()


@dataclass(frozen=True)
class Fn:
    """A test function: its inputs' count, and whether it returns a scalar or a tuple."""

    f: Callable[..., Any]
    n_inputs: int
    scalar: bool
    tuple_out: bool


VECTOR_FNS = [
    Fn(_tanh_x, 1, False, False),
    Fn(_sin_sq_sum, 1, True, False),
    Fn(_two_outputs, 2, False, True),
    Fn(_exp_tanh_sum, 2, True, False),
]
SCALAR_FNS = [fn for fn in VECTOR_FNS if fn.scalar]


@dataclass
class Case:
    """One call: the function as passed, the input arrays and v, and the flags."""

    fn: Fn
    wrap_out: bool  # a single output returned as a one-tuple
    arrays: list[np.ndarray]
    in_tuple: bool
    create_graph: bool
    strict: bool
    v: list[np.ndarray] | None = None
    v_tuple: bool = False

    def call_f(self, *args: Any) -> Any:
        out = self.fn.f(*args)
        return (out,) if self.wrap_out else out

    @property
    def out_tuple(self) -> bool:
        return self.fn.tuple_out or self.wrap_out


shapes = hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3)


def _arrays(draw: Any, shape: tuple[int, ...], n: int) -> list[np.ndarray]:
    elems = st.floats(-1.5, 1.5, allow_nan=False, width=64)
    return [draw(hnp.arrays(np.float64, shape, elements=elems)) for _ in range(n)]


@st.composite
def cases(draw: Any, kind: str) -> Case:
    """A call of ``kind``: "vjp", "jvp", "jacobian" (any function), "hessian" or "hvp"
    (scalar functions; "hvp" stands for vhp too)."""
    scalar_only = kind in ("hessian", "hvp")
    fn = draw(st.sampled_from(SCALAR_FNS if scalar_only else VECTOR_FNS))
    arrays = _arrays(draw, draw(shapes), fn.n_inputs)
    in_tuple = fn.n_inputs > 1 or draw(st.booleans())
    wrap_out = not scalar_only and not fn.tuple_out and draw(st.booleans())
    case = Case(fn, wrap_out, arrays, in_tuple, draw(st.booleans()), draw(st.booleans()))
    if kind in ("vjp", "jvp", "hvp"):
        like = _outputs(case) if kind == "vjp" else arrays
        case.v_tuple = case.out_tuple if kind == "vjp" else in_tuple
        if not (len(like) == 1 and like[0].size == 1 and draw(st.booleans())):
            case.v = _arrays_like(draw, like)  # v may be None only for one element
    return case


def _arrays_like(draw: Any, like: list[np.ndarray]) -> list[np.ndarray]:
    elems = st.floats(-2, 2, allow_nan=False, width=64)
    return [draw(hnp.arrays(np.float64, a.shape, elements=elems)) for a in like]


def _outputs(case: Case) -> list[np.ndarray]:
    with am.no_grad():
        out = case.call_f(*[am.tensor(a) for a in case.arrays])
    return [o.data for o in (out if isinstance(out, tuple) else (out,))]


def _pack(items: list[Any], is_tuple: bool) -> Any:
    return tuple(items) if is_tuple else items[0]


def _unpack(res: Any, is_tuple: bool) -> list[Any]:
    """The items of a transform's result, checking it is a tuple exactly when it should."""
    if is_tuple:
        assert isinstance(res, tuple), type(res)
        return list(res)
    assert isinstance(res, Tensor), type(res)
    return [res]


def _blocks(res: Any, rows_tuple: bool, cols_tuple: bool) -> list[list[Any]]:
    """The blocks of a Jacobian or Hessian, checking its nesting (torch's rules)."""
    if rows_tuple:
        assert isinstance(res, tuple), type(res)
        return [_unpack(row, cols_tuple) for row in res]
    return [_unpack(res, cols_tuple)]


# ----- references: central differences -----
def numeric_jacobian(f: Callable[..., Any], arrays: list[np.ndarray]) -> list[list[np.ndarray]]:
    """``J[i][k] = d out_i / d in_k`` (shape ``out_i.shape + in_k.shape``), by central
    differences of ``f`` evaluated on am tensors."""

    def evaluate(arrs: list[np.ndarray]) -> list[np.ndarray]:
        res = f(*[am.tensor(a) for a in arrs])
        return [
            np.asarray(r.data, dtype=np.float64)
            for r in (res if isinstance(res, tuple) else (res,))
        ]

    base = evaluate(arrays)
    jac = [[np.zeros(o.shape + a.shape) for a in arrays] for o in base]
    for k, a in enumerate(arrays):
        for idx in np.ndindex(a.shape):
            plus, minus = [x.copy() for x in arrays], [x.copy() for x in arrays]
            plus[k][idx] += EPS
            minus[k][idx] -= EPS
            for i, (p, m) in enumerate(zip(evaluate(plus), evaluate(minus))):
                jac[i][k][(...,) + idx] = (p - m) / (2 * EPS)
    return jac


def gradient_of(f: Callable[..., Any]) -> Callable[..., tuple[Tensor, ...]]:
    """The engine's gradient of scalar ``f`` as a function (for differences of it)."""

    def g(*ts: Tensor) -> tuple[Tensor, ...]:
        leaves = [t.detach().requires_grad_() for t in ts]
        return tuple(x for x in am.grad(f(*leaves), leaves) if x is not None)

    return g


def _vjp_ref(jac: list[list[np.ndarray]], v: list[np.ndarray]) -> list[np.ndarray]:
    return [
        sum(np.tensordot(vi, jac[i][k], axes=vi.ndim) for i, vi in enumerate(v))
        for k in range(len(jac[0]))
    ]


def _jvp_ref(jac: list[list[np.ndarray]], v: list[np.ndarray]) -> list[np.ndarray]:
    return [sum(np.tensordot(row[k], vk, axes=vk.ndim) for k, vk in enumerate(v)) for row in jac]


def _close(got: list[Any], want: list[np.ndarray], rtol: float = RTOL, atol: float = ATOL) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, Tensor), type(g)
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g.data, w, rtol=rtol, atol=atol)


def _check_graph(items: list[Tensor], create_graph: bool) -> None:
    for t in items:
        assert t.requires_grad == create_graph, (t.requires_grad, create_graph)


def _am_args(case: Case) -> tuple[Any, Any]:
    ins = _pack([am.tensor(a) for a in case.arrays], case.in_tuple)
    v = None if case.v is None else _pack([am.tensor(a) for a in case.v], case.v_tuple)
    return ins, v


def _untouched(ins: Any, case: Case) -> None:
    """The caller's tensors keep their values and get no .grad."""
    for t, a in zip(ins if isinstance(ins, tuple) else (ins,), case.arrays):
        assert t.grad is None and not t.requires_grad
        np.testing.assert_array_equal(t.data, a)


def _v_or_ones(case: Case, like: list[np.ndarray]) -> list[np.ndarray]:
    return case.v if case.v is not None else [np.ones_like(a) for a in like]


def _hessian_ref(case: Case) -> list[list[np.ndarray]]:
    return numeric_jacobian(gradient_of(case.fn.f), case.arrays)


# ----- against central differences -----
@given(cases("vjp"))
def test_vjp_matches_central_differences(case: Case) -> None:
    ins, v = _am_args(case)
    out, res = func.vjp(case.call_f, ins, v, create_graph=case.create_graph, strict=case.strict)
    outs, items = _unpack(out, case.out_tuple), _unpack(res, case.in_tuple)
    want_out = _outputs(case)
    _close(outs, want_out, atol=0)
    _close(items, _vjp_ref(numeric_jacobian(case.call_f, case.arrays), _v_or_ones(case, want_out)))
    _check_graph(outs + items, case.create_graph)
    _untouched(ins, case)


@given(cases("jvp"))
def test_jvp_matches_central_differences(case: Case) -> None:
    ins, v = _am_args(case)
    out, res = func.jvp(case.call_f, ins, v, create_graph=case.create_graph, strict=case.strict)
    outs, items = _unpack(out, case.out_tuple), _unpack(res, case.out_tuple)
    _close(outs, _outputs(case), atol=0)
    jac = numeric_jacobian(case.call_f, case.arrays)
    _close(items, _jvp_ref(jac, _v_or_ones(case, case.arrays)))
    _check_graph(outs + items, case.create_graph)
    _untouched(ins, case)


@given(cases("jacobian"), st.sampled_from(["reverse-mode", "forward-mode"]))
def test_jacobian_matches_central_differences(case: Case, strategy: str) -> None:
    ins, _ = _am_args(case)
    res = func.jacobian(
        case.call_f, ins, create_graph=case.create_graph, strict=case.strict, strategy=strategy
    )
    want = numeric_jacobian(case.call_f, case.arrays)
    for blocks, want_row in zip(_blocks(res, case.out_tuple, case.in_tuple), want, strict=True):
        _close(blocks, want_row)
        _check_graph(blocks, case.create_graph)
    _untouched(ins, case)


@given(cases("hessian"), st.sampled_from(["reverse-mode", "forward-mode"]))
def test_hessian_matches_central_differences_of_the_gradient(case: Case, strategy: str) -> None:
    ins, _ = _am_args(case)
    res = func.hessian(
        case.call_f,
        ins,
        create_graph=case.create_graph,
        strict=case.strict,
        outer_jacobian_strategy=strategy,
    )
    want = _hessian_ref(case)
    for blocks, want_row in zip(_blocks(res, case.in_tuple, case.in_tuple), want, strict=True):
        _close(blocks, want_row)
        _check_graph(blocks, case.create_graph)
    _untouched(ins, case)


@given(cases("hvp"), st.sampled_from(["hvp", "vhp"]))
def test_hvp_and_vhp_match_central_differences_of_the_gradient(case: Case, name: str) -> None:
    ins, v = _am_args(case)
    transform = func.hvp if name == "hvp" else func.vhp
    out, res = transform(case.call_f, ins, v, create_graph=case.create_graph, strict=case.strict)
    items = _unpack(res, case.in_tuple)
    hess, vs = _hessian_ref(case), _v_or_ones(case, case.arrays)
    if name == "hvp":
        want = [sum(np.tensordot(h, vl, axes=vl.ndim) for h, vl in zip(row, vs)) for row in hess]
    else:
        want = _vjp_ref(hess, vs)
    _close(_unpack(out, False), _outputs(case), atol=0)
    _close(items, want)
    _check_graph([out, *items], case.create_graph)
    _untouched(ins, case)
