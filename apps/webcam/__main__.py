"""``python -m deepfake_dct.apps.webcam``: the same as ``deepfake-dct webcam``."""

import sys

from deepfake_dct.apps.webcam.cli import main

sys.exit(main())
