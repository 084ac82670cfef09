"""``python -m deepfake_dct``: the same as the ``deepfake-dct`` command."""

import sys

from deepfake_dct.cli import main

sys.exit(main())
