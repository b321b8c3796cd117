"""examples/gradients.py runs with --quick and prints each demo's figures.

Each demo of the example adds its function name and the lines its output must contain.
"""

from __future__ import annotations

import re
from pathlib import Path

from helpers import ROOT, run_python

# demo -> patterns (regular expressions) its section of the output must contain
DEMOS = {
    "hessian_demo": [
        r"Hessian of the 4-3-2 network's loss w\.r\.t\. its 23 weights",
        r"at initialisation \(loss 0\.7162\): 7 negative eigenvalues of 23",
        r"shape \(23, 23\), symmetric to \d\.\de-1[5-9]",
        r"after 200 gradient-descent steps \(loss [\d.]+\): 0 negative eigenvalues of 23",
    ],
    "hvp_demo": [
        r"vs differences of the gradient \(h=1e-05\): \d\.\de-1[01]\b",
        r"vs the full Hessian times v: \d\.\de-1[5-7]\b",
        r"cost: hvp 3 backward passes, the full Hessian 1 \+ 23",
    ],
    "gradient_penalty_demo": [
        r"lam 0 .* mean \|d loss_i / d x_i\| [\d.]+",
        r"lam 0\.3 .* mean \|d loss_i / d x_i\| [\d.]+",
        r"lam 3 .* training accuracy",
    ],
    "anomaly_demo": [
        r"loss 2\.5, gradient \[\[nan, nan\], \[0\.3\d*, 0\.4\]\]",
        r"RuntimeError: Sqrt\.backward returned inf in the gradient of input 0",
        r'File ".*gradients\.py", line \d+, in mean_distance\n +return \(\(points - centre\)',
        r"clamped before sqrt: gradient \[\[0\.0, 0\.0\], \[0\.3\d*, 0\.4\]\]",
    ],
    "hooks_demo": [
        r"step +loss +\|dL/dW1\| +\|dL/dW3\| +\|dL/dW5\| +\|dL/dout1\|",
        r"\n +0 +2\.\d{3}( +\d\.\d{4}){6}\n +1 ",
        r"\n +2 +\d\.\d{3}( +\d\.\d{4}){6}",
    ],
}


def _sections(stdout: str) -> dict[str, str]:
    """The output split at the example's "== demo ==" headers."""
    parts = re.split(r"^== (\w+) ==$", stdout, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def test_gradients_example_runs_quick(tmp_path: Path) -> None:
    env = {"OPENBLAS_NUM_THREADS": "1", "AUTOGRAD_MNIST_DATA": str(tmp_path / "no-data")}
    result = run_python([str(ROOT / "examples" / "gradients.py"), "--quick"], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    sections = _sections(result.stdout)
    assert set(DEMOS) <= set(sections), list(sections)
    for demo, patterns in DEMOS.items():
        for pattern in patterns:
            assert re.search(pattern, sections[demo]), (demo, pattern, sections[demo])
    # the penalty demo's point: a larger penalty weight, a smaller input gradient
    norms = [float(m) for m in re.findall(r"mean \|d loss_i / d x_i\| ([\d.]+)", result.stdout)]
    assert len(norms) == 3 and norms[0] > norms[1] > norms[2], norms
