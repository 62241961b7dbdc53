"""`python -m harness.run ROW [suite options]`: run a row in the current environment (harness.worker.preinstalled)."""

import sys

from harness.worker.preinstalled import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
