"""The architectures, one readable function each. Inputs are named after the representation they read
("log_dct", "pixels"), which is how the runtime matches tensors to inputs. Output: p_fake (sigmoid)."""

from __future__ import annotations

import keras
from keras import layers


def _paper_cnn(inputs):
    """Frank et al.'s small CNN: 3x3 convs 8 -> 16 -> 32, average pooling between, one dense output.
    Average pooling, not max: on a spectrum, averaging keeps the energy of neighbouring frequencies
    instead of picking one. No global pooling: on a spectrum, position is frequency."""
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = layers.AveragePooling2D(2)(x)
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    x = layers.AveragePooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.Flatten()(x)
    return layers.Dense(1, activation="sigmoid", name="p_fake")(x)


def make_dct_cnn(input_shape=(128, 128, 3)) -> keras.Model:
    """The paper's DCT CNN (~39k parameters for 128x128x3) on the normalised log-DCT."""
    inputs = keras.Input(input_shape, name="log_dct")
    return keras.Model({"log_dct": inputs}, _paper_cnn(inputs), name="dct_cnn")


def make_logistic_dct(input_shape=(128, 128, 3), l2: float = 1e-3) -> keras.Model:
    """Logistic regression on the normalised log-DCT: the paper's linear ("ridge") baseline. Its
    weights, reshaped to the input, show which frequencies it reads."""
    inputs = keras.Input(input_shape, name="log_dct")
    x = layers.Flatten()(inputs)
    outputs = layers.Dense(
        1, activation="sigmoid", kernel_regularizer=keras.regularizers.l2(l2), name="p_fake"
    )(x)
    return keras.Model({"log_dct": inputs}, outputs, name="logistic_dct")


def make_pixel_cnn(input_shape=(128, 128, 3)) -> keras.Model:
    """The paper's baseline: the same CNN as :func:`make_dct_cnn`, reading pixels in [-1, 1]."""
    inputs = keras.Input(input_shape, name="pixels")
    return keras.Model({"pixels": inputs}, _paper_cnn(inputs), name="pixel_cnn")


ARCHITECTURES = {
    "dct_cnn": (make_dct_cnn, "log_dct"),
    "logistic_dct": (make_logistic_dct, "log_dct"),
    "pixel_cnn": (make_pixel_cnn, "pixels"),
}
