"""``python -m conformance``: see conformance/harness.py."""

import sys

from conformance.harness import main

sys.exit(main())
