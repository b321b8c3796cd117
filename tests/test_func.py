"""autograd_mnist.func against central differences (float64) and against
torch.autograd.functional, over argument forms (Tensor or tuple inputs and outputs, v
given or not, create_graph, strict), shapes and values; on reference networks too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_mnist as am
from autograd_mnist import func, models, nn
from autograd_mnist import functional as F
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


# ----- against torch.autograd.functional -----
def _same(ours: Any, theirs: Any) -> None:
    """Same nesting, shapes, values (to rounding) and requires_grad as torch's result."""
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs), (type(ours), theirs)
        for a, b in zip(ours, theirs):
            _same(a, b)
        return
    assert isinstance(ours, Tensor), type(ours)
    assert ours.shape == tuple(theirs.shape), (ours.shape, tuple(theirs.shape))
    want = theirs.detach().numpy()
    np.testing.assert_allclose(ours.data, want, rtol=TORCH_TOL, atol=TORCH_TOL)
    assert ours.requires_grad == theirs.requires_grad


def _torch_args(torch: Any, case: Case) -> tuple[Any, Any]:
    ins = _pack([torch.tensor(a) for a in case.arrays], case.in_tuple)
    v = None if case.v is None else _pack([torch.tensor(a) for a in case.v], case.v_tuple)
    return ins, v


NAMES = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_matches_torch_autograd_functional(name: str, data: Any) -> None:
    torch = pytest.importorskip("torch")
    case = data.draw(cases("hvp" if name == "vhp" else name))
    flags = {"create_graph": case.create_graph, "strict": case.strict}
    (ins, v), (t_ins, t_v) = _am_args(case), _torch_args(torch, case)
    ours, theirs = getattr(func, name), getattr(torch.autograd.functional, name)
    if name in ("jacobian", "hessian"):
        _same(ours(case.call_f, ins, **flags), theirs(case.call_f, t_ins, **flags))
    else:
        _same(ours(case.call_f, ins, v, **flags), theirs(case.call_f, t_ins, t_v, **flags))


# ----- strict, independent inputs and errors: torch's behaviour and messages -----
def _ignores_y(x: Any, y: Any) -> Any:
    return x.exp()


def _ignores_y_sum(x: Any, y: Any) -> Any:
    return x.exp().sum()


def _linear_sum(x: Any) -> Any:
    return (2 * x).sum()


def _doubled(x: Any) -> Any:
    return 2 * x


def _no_graph(x: Any) -> Any:
    return x.detach() * 2


# (transform, function, number of inputs, v given, create_graph)
STRICT_CASES = [
    ("vjp", _ignores_y, 2, True, False),
    ("jvp", _ignores_y, 2, True, False),
    ("jacobian", _ignores_y, 2, False, False),
    ("hessian", _ignores_y_sum, 2, False, False),
    ("hvp", _ignores_y_sum, 2, True, False),
    ("vhp", _ignores_y_sum, 2, True, False),
    ("hessian", _linear_sum, 1, False, False),
    ("hvp", _linear_sum, 1, True, False),
    ("vhp", _linear_sum, 1, True, True),
    ("jvp", _doubled, 1, True, True),
    ("vjp", _doubled, 1, True, True),
    ("jacobian", _doubled, 1, False, True),
    ("vjp", _no_graph, 1, True, False),
    ("jacobian", _no_graph, 1, False, False),
]


def _run_strict_case(
    lib_func: Any, tensor: Callable[[np.ndarray], Any], case: Any, strict: bool
) -> Any:
    name, f, n, with_v, create_graph = case
    rng = np.random.default_rng(1)
    arrays = [rng.normal(size=3) for _ in range(n)]
    ins = tuple(tensor(a) for a in arrays) if n > 1 else tensor(arrays[0])
    kwargs: dict[str, Any] = {"create_graph": create_graph, "strict": strict}
    if with_v:
        like = arrays if name != "vjp" else [np.ones(3)]
        vs = tuple(tensor(np.full_like(a, 0.5)) for a in like)
        kwargs["v"] = vs if len(vs) > 1 else vs[0]
    return getattr(lib_func, name)(f, ins, **kwargs)


@pytest.mark.parametrize("case", STRICT_CASES, ids=lambda c: f"{c[0]}-{c[1].__name__}-{c[4]}")
def test_strict_raises_as_torch_and_non_strict_gives_torchs_zeros(case: Any) -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as ours:
        _run_strict_case(func, am.tensor, case, strict=True)
    with pytest.raises(RuntimeError) as theirs:
        _run_strict_case(torch.autograd.functional, torch.tensor, case, strict=True)
    assert str(ours.value) == str(theirs.value)
    _same(
        _run_strict_case(func, am.tensor, case, strict=False),
        _run_strict_case(torch.autograd.functional, torch.tensor, case, strict=False),
    )


def test_independent_input_gives_zeros_without_torch() -> None:
    x, y = am.tensor(np.array([0.5, 1.0])), am.tensor(np.array([2.0, 3.0]))
    (_, g), h = func.vjp(_ignores_y_sum, (x, y)), func.hessian(_ignores_y_sum, (x, y))
    np.testing.assert_array_equal(g[1].data, 0)
    np.testing.assert_array_equal(h[1][1].data, 0)
    np.testing.assert_allclose(h[0][0].data, np.diag(np.exp(x.data)))
    with pytest.raises(RuntimeError, match="independent of input 1. This is not allowed"):
        func.vjp(_ignores_y_sum, (x, y), strict=True)


def _x3() -> Tensor:
    return am.tensor(np.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: func.vjp(_tanh_x, _x3()),
            RuntimeError,
            "v can only be None if the user-provided function returns a single Tensor with a "
            "single element",
        ),
        (
            lambda: func.jvp(_tanh_x, _x3()),
            RuntimeError,
            "v can only be None if the input to the user-provided function is a single Tensor",
        ),
        (lambda: func.hvp(_sin_sq_sum, _x3()), RuntimeError, "v can only be None if the input"),
        (
            lambda: func.vjp(_tanh_x, _x3(), am.tensor(np.ones(2))),
            RuntimeError,
            r"v has invalid size: should be \(3,\) but got \(2,\)",
        ),
        (
            lambda: func.jvp(_two_outputs, (_x3(), _x3()), (_x3(),)),
            RuntimeError,
            "v is a tuple of invalid length: should be 2 but got 1",
        ),
        (
            lambda: func.vjp(_tanh_x, _x3(), (_x3(), _x3())),
            RuntimeError,
            "The given v should contain a single Tensor",
        ),
        (
            lambda: func.jvp(_tanh_x, (_x3(),), (am.tensor(np.ones(2)),)),
            RuntimeError,
            r"Entry 0 in v has invalid size",
        ),
        (
            lambda: func.vjp(_tanh_x, _x3(), am.ones(3)),
            TypeError,
            "v has dtype float32, expected float64",
        ),
        (
            lambda: func.hessian(_tanh_x, _x3()),
            RuntimeError,
            "should contain a single element; got shape \\(3,\\)",
        ),
        (
            lambda: func.hessian(lambda x: (x.sum(),), _x3()),
            RuntimeError,
            "hessian should return a single Tensor",
        ),
        (
            lambda: func.vhp(lambda x: (x.sum(),), _x3(), _x3()),
            RuntimeError,
            "vhp should return a single Tensor",
        ),
        (
            lambda: func.vjp(_tanh_x, [_x3()]),
            TypeError,
            "inputs given to vjp must be either a Tensor or a tuple of Tensors but the given "
            "inputs has type <class 'list'>",
        ),
        (
            lambda: func.jacobian(_tanh_x, (_x3(), 1.0)),
            TypeError,
            "the value at index 1 has type <class 'float'>",
        ),
        (
            lambda: func.jacobian(lambda x: [x], _x3()),
            TypeError,
            "outputs of the user-provided function given to jacobian",
        ),
        (
            lambda: func.jacobian(_tanh_x, _x3(), strategy="sideways"),
            ValueError,
            "strategy must be one of",
        ),
    ],
)
def test_errors_name_the_argument(call: Callable[[], Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        call()


# ----- create_graph: results differentiable again (third derivatives for the Hessians) -----
def _contract(res: Any, ws: list[np.ndarray], tensor: Callable[[np.ndarray], Any]) -> Any:
    """sum_i <w_i, result_i>: one scalar from any transform's result."""
    items = res if isinstance(res, tuple) else (res,)
    return sum((item * tensor(w)).sum() for item, w in zip(items, ws))


def _call(lib_func: Any, name: str, x: Any, v: Any, create_graph: bool) -> Any:
    """The transform's differentiated result (not func's output), for a fixed function."""
    f = _tanh_x if name in ("vjp", "jvp", "jacobian") else _sin_sq_sum
    transform = getattr(lib_func, name)
    if name in ("jacobian", "hessian"):
        return transform(f, x, create_graph=create_graph)
    return transform(f, x, v, create_graph=create_graph)[1]


def _third_order_point(name: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(len(name))
    x0, v0 = rng.normal(size=3), rng.normal(size=3)
    shape = (3, 3) if name in ("jacobian", "hessian") else (3,)
    return x0, v0, [rng.normal(size=shape)]


@pytest.mark.parametrize("name", NAMES)
def test_create_graph_results_differentiate_to_central_differences(name: str) -> None:
    x0, v0, ws = _third_order_point(name)
    x, v = am.tensor(x0, requires_grad=True), am.tensor(v0, requires_grad=True)
    res = _call(func, name, x, v, create_graph=True)
    gx, gv = am.grad(_contract(res, ws, am.tensor), [x, v], allow_unused=True)
    assert x.grad is None and v.grad is None  # grad, not backward: nothing accumulated

    def scalar(xa: np.ndarray, va: np.ndarray) -> float:
        return float(
            _contract(_call(func, name, am.tensor(xa), am.tensor(va), False), ws, am.tensor).item()
        )

    for got, moving in ((gx, 0), (gv, 1)):
        want = np.zeros(3)
        for k in range(3):
            step = np.zeros(3)
            step[k] = EPS
            args_p, args_m = [x0, v0], [x0, v0]
            args_p[moving], args_m[moving] = args_p[moving] + step, args_m[moving] - step
            want[k] = (scalar(*args_p) - scalar(*args_m)) / (2 * EPS)
        have = np.zeros(3) if got is None else got.data
        np.testing.assert_allclose(have, want, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", NAMES)
def test_create_graph_results_differentiate_as_torchs(name: str) -> None:
    torch = pytest.importorskip("torch")
    x0, v0, ws = _third_order_point(name)
    x, v = am.tensor(x0, requires_grad=True), am.tensor(v0, requires_grad=True)
    ours = am.grad(
        _contract(_call(func, name, x, v, True), ws, am.tensor), [x, v], allow_unused=True
    )
    tx, tv = torch.tensor(x0, requires_grad=True), torch.tensor(v0, requires_grad=True)
    t_res = _contract(_call(torch.autograd.functional, name, tx, tv, True), ws, torch.tensor)
    theirs = torch.autograd.grad(t_res, [tx, tv], allow_unused=True)
    for a, b in zip(ours, theirs):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a.data, b.numpy(), rtol=TORCH_TOL, atol=TORCH_TOL)


def test_create_graph_false_leaves_no_graph_and_the_callers_tensors_alone() -> None:
    x = am.tensor(np.array([0.3, -0.7]), requires_grad=True)
    out, g = func.vjp(_sin_sq_sum, x)
    assert not out.requires_grad and not g.requires_grad and x.grad is None
    out, g = func.vjp(_sin_sq_sum, x, create_graph=True)
    g.sum().backward()  # flows back to the caller's x through the transform's copy
    assert x.grad is not None and out.requires_grad


# ----- the reference networks' losses -----
def call_with(model: nn.Module, params: tuple[Tensor, ...], *args: Any) -> Any:
    """``model(*args)`` with its parameters (in ``parameters()`` order) replaced by
    ``params`` for this call only: a loss as a function of the weights."""
    slots = [(m, name, p) for _, m in model.named_modules() for name, p in m._parameters.items()]
    assert [p for _, _, p in slots] == model.parameters()
    try:
        for (m, name, _), t in zip(slots, params, strict=True):
            object.__setattr__(m, name, t)  # bypasses the registry: restored below
        return model(*args)
    finally:
        for m, name, p in slots:
            object.__setattr__(m, name, p)


def _tiny_mlp() -> tuple[nn.Module, Tensor, Tensor]:
    am.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    rng = np.random.default_rng(0)
    return model, am.tensor(rng.normal(size=(5, 6))), am.tensor(rng.integers(0, 3, size=5))


def test_hessian_of_a_tiny_mlps_loss_matches_differences_of_its_gradient() -> None:
    model, x, y = _tiny_mlp()
    params = tuple(model.parameters())
    shapes = [p.shape for p in params]
    sizes = [p.numel() for p in params]
    bounds = np.cumsum([0, *sizes])

    def loss(*ws: Tensor) -> Tensor:
        return F.cross_entropy(call_with(model, ws, x), y)

    def loss_flat(theta: Tensor) -> Tensor:
        ws = [theta[a:b].reshape(s) for a, b, s in zip(bounds[:-1], bounds[1:], shapes)]
        return loss(*ws)

    blocks = func.hessian(loss, params)  # a tuple of tuples: one block per pair of weights
    assert [[b.shape for b in row] for row in blocks] == [[s + t for t in shapes] for s in shapes]
    theta = np.concatenate([p.data.ravel() for p in params])
    flat = func.hessian(loss_flat, am.tensor(theta)).data
    assert flat.shape == (43, 43)
    assembled = np.block(
        [[b.data.reshape(m, n) for b, n in zip(row, sizes)] for row, m in zip(blocks, sizes)]
    )
    np.testing.assert_allclose(flat, assembled, rtol=1e-12, atol=1e-14)
    (want,) = numeric_jacobian(gradient_of(loss_flat), [theta])[0]
    np.testing.assert_allclose(flat, want, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(flat, flat.T, rtol=1e-12, atol=1e-14)
    assert all(p.grad is None for p in params)


def test_hessian_of_a_tiny_mlps_loss_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    model, x, y = _tiny_mlp()
    params = tuple(model.parameters())
    ours = func.hessian(lambda *ws: F.cross_entropy(call_with(model, ws, x), y), params)
    tx, ty = torch.tensor(x.data), torch.tensor(y.data)

    def torch_loss(w1: Any, b1: Any, w2: Any, b2: Any) -> Any:
        logits = torch.tanh(tx @ w1.T + b1) @ w2.T + b2
        return torch.nn.functional.cross_entropy(logits, ty)

    _same(
        ours,
        torch.autograd.functional.hessian(torch_loss, tuple(torch.tensor(p.data) for p in params)),
    )


def test_hvp_of_r2s_loss_matches_differences_of_its_gradient() -> None:
    """R2 (keras-cnn, 3.2M weights) in float64 on two images: H v against
    (grad(w + h v) - grad(w - h v)) / 2h with |v| = 1 and h = 1e-4. Measured: the two
    agree to 2e-10 of max |H v| (h = 1e-3 already crosses ReLU and max-pool kinks)."""
    am.manual_seed(0)
    model = models.build_model("keras-cnn").double()
    rng = np.random.default_rng(0)
    x, y = am.tensor(rng.random((2, 1, 28, 28))), am.tensor(np.array([3, 7]))
    params = tuple(model.parameters())
    raw = [rng.normal(size=p.shape) for p in params]
    norm = np.sqrt(sum(float((a**2).sum()) for a in raw))
    v = tuple(am.tensor(a / norm) for a in raw)

    def loss(*ws: Tensor) -> Tensor:
        return F.cross_entropy(call_with(model, ws, x), y)

    out, hv = func.hvp(loss, params, v)
    _, vh = func.vhp(loss, params, v)
    scale = max(float(np.abs(t.data).max()) for t in hv)
    assert scale > 1e-3  # a product worth comparing

    def grad_at(h: float) -> list[np.ndarray]:
        ws = [am.tensor(p.data + h * d.data, requires_grad=True) for p, d in zip(params, v)]
        return [g.data for g in am.grad(loss(*ws), ws)]

    h = 1e-4
    want = [(a - b) / (2 * h) for a, b in zip(grad_at(h), grad_at(-h))]
    for got, w, other in zip(hv, want, vh):
        np.testing.assert_allclose(got.data, w, rtol=0, atol=1e-7 * scale)
        np.testing.assert_allclose(other.data, got.data, rtol=0, atol=1e-12 * scale)
    assert out.item() == pytest.approx(float(loss(*params).item()), rel=1e-15)
    assert all(p.grad is None for p in params)
