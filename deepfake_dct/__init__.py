"""deepfake-dct: detect GAN-generated images from their DCT spectrum.

    from deepfake_dct import Detector
    with Detector.from_file() as d:          # the bundled model
        result = d.detect("photo.jpg")       # path, bytes, PIL image or uint8 array
        print(result.label, result.p_fake)

One import name, one subpackage per layer, each importing only those below it:

    deepfake_dct.detector     the runtime: numpy, Pillow and a TFLite interpreter (never TensorFlow)
    deepfake_dct.training     Keras training on folders of real and fake images
    deepfake_dct.export       TFLite conversion with a parity gate
    deepfake_dct.evaluation   held-out scoring, robustness, comparisons
    deepfake_dct.analysis     spectra, upsampling experiments, what the models read
    deepfake_dct.apps         the Streamlit uploader and the webcam/video classifier
    deepfake_dct.cli          the ``deepfake-dct`` command

Importing this package loads the runtime only.
"""

from deepfake_dct import detector as _runtime
from deepfake_dct.detector import *  # noqa: F403 -- the runtime's public names, listed once there
from deepfake_dct.detector import __version__

__all__ = [*_runtime.__all__, "__version__"]
