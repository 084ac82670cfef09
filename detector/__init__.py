"""deepfake-dct runtime: detect GAN-generated images from their DCT spectrum.

    from deepfake_dct import Detector
    with Detector.from_file() as d:          # the bundled model
        result = d.detect("photo.jpg")       # path, bytes, PIL image or uint8 array
        print(result.label, result.p_fake)

numpy, Pillow and a TFLite interpreter only: importing this package never imports TensorFlow.
"""

import os

# One OpenBLAS thread unless the caller chose otherwise (only effective before numpy loads). The
# runtime's matrix products are 128x128: threading them gains nothing, and BLAS threads spinning
# beside the interpreter's, OpenCV's or TensorFlow's own threads were measured to slow a busy
# 2-core machine 10-20x (webcam loop 6.8-12 FPS instead of 106-272; training epochs 25 s -> 360 s).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from deepfake_dct.detector.detector import (
    Analysis,
    BaseRateShift,
    CropScore,
    Detection,
    Detector,
    DetectorOptions,
    at_base_rate,
    band_widths,
    default_model_path,
    is_uncertain,
    uncertain_range,
    verdict,
)
from deepfake_dct.detector.images import Box, ImageError, ImageTooSmallError, InputPolicy
from deepfake_dct.detector.model_file import ModelFileError, ModelSpec

__all__ = [
    "Analysis",
    "BaseRateShift",
    "Box",
    "CropScore",
    "Detection",
    "Detector",
    "DetectorOptions",
    "ImageError",
    "ImageTooSmallError",
    "InputPolicy",
    "ModelFileError",
    "ModelSpec",
    "at_base_rate",
    "band_widths",
    "default_model_path",
    "is_uncertain",
    "uncertain_range",
    "verdict",
]
__version__ = "0.1.0"
