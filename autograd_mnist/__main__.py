"""``python -m autograd_mnist``: the command line (see :mod:`autograd_mnist.cli`)."""

from autograd_mnist.cli import main

raise SystemExit(main())
