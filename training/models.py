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


def make_pixel_net(input_shape=(128, 128, 3), widths=(16, 32, 64, 128, 128), dropout: float = 0.3) -> keras.Model:
    """A deeper pixel CNN: five 3x3 conv + batch-norm + ReLU blocks, each halving the resolution by
    max pooling, then global average pooling and dropout (~250k parameters). Unlike on a spectrum,
    global pooling suits pixels: an artifact means the same wherever in the face it appears."""
    inputs = keras.Input(input_shape, name="pixels")
    x = inputs
    for width in widths:
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="p_fake")(x)
    return keras.Model({"pixels": inputs}, outputs, name="pixel_net")


def _residual_branch(pixels, widths=(8, 8, 16, 32, 32)):
    """A pixel branch that reads what upsampling leaves, not what the face looks like: the
    neighbouring-pixel residual x - up(down(x)) (2x2 mean, repeated back), then 3x3 conv + batch
    norm + ReLU blocks. The first two run at full resolution, unpooled and unstrided: the traces of
    a transposed convolution or a nearest-neighbour upsampler are one or two pixels wide, and a
    stride there would alias them away. Global pooling at the end: a trace means the same wherever
    in the crop it is."""
    smooth = layers.UpSampling2D(2, interpolation="nearest")(layers.AveragePooling2D(2)(pixels))
    x = layers.Subtract(name="residual")([pixels, smooth])
    for i, width in enumerate(widths):
        if i >= 2:
            x = layers.AveragePooling2D(2)(x)
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    return layers.Dense(1, name="residual_logit")(layers.GlobalAveragePooling2D()(x))


def make_native_net(input_shape=(128, 128, 3), dropout: float = 0.2) -> keras.Model:
    """For native-resolution crops ("tiles" policy): the paper's DCT CNN on the crop's normalised
    log-DCT beside :func:`_residual_branch` on its pixels, trained together; their logits add.
    The spectrum sees periodic traces over the whole crop; the residual sees local ones."""
    log_dct = keras.Input(input_shape, name="log_dct")
    pixels = keras.Input(input_shape, name="pixels")
    s = layers.Conv2D(8, 3, padding="same", activation="relu")(log_dct)
    s = layers.AveragePooling2D(2)(s)
    s = layers.Conv2D(16, 3, padding="same", activation="relu")(s)
    s = layers.AveragePooling2D(2)(s)
    s = layers.Conv2D(32, 3, padding="same", activation="relu")(s)
    s = layers.Dropout(dropout)(layers.Flatten()(s))
    spectrum_logit = layers.Dense(1, name="spectrum_logit")(s)
    logit = layers.Add()([spectrum_logit, _residual_branch(pixels)])
    outputs = layers.Activation("sigmoid", name="p_fake")(logit)
    return keras.Model({"log_dct": log_dct, "pixels": pixels}, outputs, name="native_net")


def make_average_ensemble(members: list[keras.Model], name: str = "ensemble") -> keras.Model:
    """One network that feeds each member its named input and averages their p_fake.

    Members are trained apart (each its own early stopping) and joined afterwards: averaging models
    that err differently -- one reading the spectrum, one the pixels -- is what lifts accuracy here.
    """
    inputs = {}
    for member in members:
        for input_name, tensor in member.input.items():
            if input_name not in inputs:
                inputs[input_name] = keras.Input(tensor.shape[1:], name=input_name)
    outputs = [m({k: inputs[k] for k in m.input}) for m in members]
    return keras.Model(inputs, layers.Average(name="p_fake")(outputs), name=name)


ARCHITECTURES = {
    "dct_cnn": (make_dct_cnn, "log_dct"),
    "logistic_dct": (make_logistic_dct, "log_dct"),
    "pixel_cnn": (make_pixel_cnn, "pixels"),
    "pixel_net": (make_pixel_net, "pixels"),
    "native_net": (make_native_net, "log_dct+pixels"),
}
#: Ensembles: name -> member architectures, trained one after the other on the same split.
ENSEMBLES = {
    "dct_pixel_ensemble": ("dct_cnn", "pixel_net"),
}
