"""deepfake-dct runtime: detect GAN-generated images from their DCT spectrum.

    from detector import Detector
    with Detector.from_file() as d:          # the bundled model
        result = d.detect("photo.jpg")       # path, bytes, PIL image or uint8 array
        print(result.label, result.p_fake)

numpy, Pillow and a TFLite interpreter only: importing this package never imports TensorFlow.
"""

from detector.detector import Detection, Detector, DetectorOptions, default_model_path
from detector.images import ImageError, ImageTooSmallError, InputPolicy
from detector.model_file import ModelFileError, ModelSpec

__all__ = [
    "Detection",
    "Detector",
    "DetectorOptions",
    "ImageError",
    "ImageTooSmallError",
    "InputPolicy",
    "ModelFileError",
    "ModelSpec",
    "default_model_path",
]
__version__ = "0.1.0"
