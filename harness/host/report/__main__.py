"""`python -m harness.host.report`: the package docstring says how to call it."""

import sys

from harness.host.report.cli import main

sys.exit(main())
