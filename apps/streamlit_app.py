"""Upload an image, see whether the model calls it real or GAN-generated, and what it looked at.

Run it with ``deepfake-dct app`` (or ``streamlit run apps/streamlit_app.py -- --model FILE``).

Built on the public ``Detector`` API, plus ``log_dct`` (the spectrum picture) and ``layer_table``
(the "How it works" table). Three things that are easy to get wrong:
  * The model loads once per process (``st.cache_resource``) and every session shares it. A TFLite
    interpreter is not thread-safe, but ``Detector.predict`` holds a lock around set_tensor, invoke
    and get_tensor, so concurrent sessions take turns on the shared interpreter; nothing here calls
    the interpreter except through ``predict`` (the layer table only reads op and tensor details).
  * Uploads stay in memory: Streamlit keeps uploaded files in memory, and this app keeps its results
    in the session's state, pruned to the files currently uploaded. Nothing is written to disk, and
    nothing outlives the session.
  * A file that cannot be read gets an error of its own (``ImageError``'s message); the other files
    carry on. A model file that cannot be used is refused (``ModelFileError``'s message), and the
    model in use stays in use.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw

from deepfake_dct.apps.evidence import colours_of, evidence_colour
from deepfake_dct.detector import (BaseRateShift, Detector, ImageError, InputPolicy, ModelFileError, band_widths,
                                   is_uncertain, uncertain_range, verdict)
from deepfake_dct.detector.features import log_dct
from deepfake_dct.detector.layer_table import layer_table

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
#: What the uploader accepts (files are decoded by content, whatever the extension says).
IMAGE_TYPES = ["jpg", "jpeg", "png", "webp", "bmp", "tif", "tiff"]
#: The departure picture maps z-scores from -DEPARTURE_RANGE to +DEPARTURE_RANGE.
DEPARTURE_RANGE = 3.0
#: Colour stops, RGB: the spectrum (dark = weak, light = strong; the "magma" palette) ...
SPECTRUM_COLOURS = ((0, 0, 4), (81, 18, 124), (183, 55, 121), (252, 137, 97), (252, 253, 191))
#: ... and the departure from the mean (blue = weaker than average, white = average, red = stronger).
DEPARTURE_COLOURS = ((33, 102, 172), (247, 247, 247), (178, 24, 43))
#: ImageError messages start with the input's description, "<bytes>: " for uploads; the app names
#: the file itself.
BYTES_PREFIX = "<bytes>: "
PICTURE_SCALE = 2  # Spectra are shown 2x, nearest-neighbour, so each coefficient stays one square.


@dataclass(frozen=True)
class ImageFile:
    """An image to classify: an upload or a bundled sample, held in memory."""

    name: str
    data: bytes
    key: str
    """Identifies this file within the session (Streamlit's upload id, or the sample's name)."""
    truth: str = ""
    """The known class of a bundled sample ("real" or "fake"); empty for uploads."""


@dataclass(frozen=True)
class Analysis:
    """What the model made of one image, and the pictures that explain it."""

    p_fake: float
    seconds: float
    """From the uploaded bytes to p_fake: decode, fit, features, inference."""
    crop_count: int
    """How many model inputs the policy cut from the image."""
    model_input: np.ndarray
    """(H, W, 3) uint8 RGB: the image as the model reads it (of several crops, the most fake-looking)."""
    spectrum: np.ndarray
    """(H, W, C) float32 log-DCT of the model input (C = 1 for a model that reads luma)."""
    departure: np.ndarray | None
    """(H, W, C) float32 normalised log-DCT (z-scores against the training set's mean spectrum),
    None for a model that does not read the spectrum."""
    evidence: np.ndarray
    """The image (shrunk for display only) with each crop the model read outlined and tinted by its
    own p_fake: where the evidence is."""
    out_of_scope: str | None = None
    """The runtime's reason the image is unlike what the model knows (a drawing, a screenshot...)."""


# --- Model and image handling ---------------------------------------------------------------------


@st.cache_resource(show_spinner="Loading the model ...")
def load_detector(path: str | None) -> Detector:
    """The startup model, loaded once per process and shared by all sessions (see the module doc)."""
    return Detector.from_file(path)


def analyse(detector: Detector, data: bytes) -> Analysis:
    """Runs the detector's pipeline step by step, keeping the intermediate pictures.

    Raises:
      ImageError: the bytes are not an image the model can read (the message says why).
    """
    started = time.perf_counter()
    analysis = detector.analyse(data)
    seconds = time.perf_counter() - started
    shown = int(np.argmax([crop.p_fake for crop in analysis.detection.crops]))
    departure, normalisation = analysis.inputs.get("log_dct"), detector.spec.normalisation
    if departure is None:  # a pixels-only model: the spectrum is computed for the picture alone
        spectrum = log_dct(analysis.crops[shown], detector.spec.log_eps)
    else:  # the runtime's own log-DCT, un-normalised (no second DCT)
        spectrum = departure[shown] * normalisation.std + normalisation.mean
    return Analysis(
        p_fake=analysis.detection.p_fake,
        seconds=seconds,
        crop_count=len(analysis.crops),
        model_input=analysis.crops[shown],
        spectrum=spectrum,
        departure=None if departure is None else departure[shown],
        evidence=evidence_picture(analysis.rgb, analysis.detection.crops),
        out_of_scope=analysis.detection.out_of_scope,
    )


def sample_images() -> list[ImageFile]:
    """The bundled sample faces; each file name starts with its true class."""
    return [
        ImageFile(name=path.name, data=path.read_bytes(), key=f"sample:{path.name}",
                  truth=path.name.split("_")[0])
        for path in sorted(SAMPLES_DIR.iterdir())
        if path.suffix.lower().lstrip(".") in IMAGE_TYPES
    ]


def analyses_for(detector: Detector, model_key: str, images: list[ImageFile]) -> list[Analysis | str]:
    """An Analysis, or the error message, per image. Results are kept in this session's state for
    the files still uploaded, so moving the threshold slider does not run the model again."""
    kept = st.session_state.get("analyses", {})
    fresh = {}
    for image in images:
        key = (model_key, image.key)
        if key not in kept:
            try:
                kept[key] = analyse(detector, image.data)
            except ImageError as e:
                kept[key] = str(e).removeprefix(BYTES_PREFIX)
        fresh[key] = kept[key]
    st.session_state["analyses"] = fresh
    return [fresh[(model_key, image.key)] for image in images]


# --- Pictures ---------------------------------------------------------------------------------------


def colour_map(values: np.ndarray, low: float, high: float, colours) -> np.ndarray:
    """(H, W) floats -> (H*s, W*s, 3) uint8 RGB: low..high spread evenly over the colour stops, each
    value enlarged to an s x s square (s = PICTURE_SCALE)."""
    rgb = colours_of(values, low, high, colours)
    big = np.repeat(np.repeat(rgb, PICTURE_SCALE, axis=0), PICTURE_SCALE, axis=1)
    return np.rint(big).astype(np.uint8)


def spectrum_picture(spectrum: np.ndarray) -> np.ndarray:
    """The log-DCT averaged over R, G and B, its 1st..99th percentile spread over the palette."""
    mean = spectrum.mean(axis=-1)
    low, high = np.percentile(mean, [1, 99])
    return colour_map(mean, float(low), float(high), SPECTRUM_COLOURS)


def departure_picture(z_scores: np.ndarray) -> np.ndarray:
    """The z-scores averaged over R, G and B, on a fixed scale so that pictures compare."""
    return colour_map(z_scores.mean(axis=-1), -DEPARTURE_RANGE, DEPARTURE_RANGE, DEPARTURE_COLOURS)


#: The evidence map is drawn at most this many pixels on its longer side (display only).
EVIDENCE_SIDE = 640


def evidence_picture(rgb: np.ndarray, crops) -> np.ndarray:
    """The decoded image with each crop's box tinted (40%) and outlined in its p_fake's colour."""
    scale = min(1.0, EVIDENCE_SIDE / max(rgb.shape[:2]))
    picture = Image.fromarray(rgb)
    if scale < 1.0:
        picture = picture.resize((round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
                                 Image.Resampling.BOX)
    overlay = Image.new("RGBA", picture.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for crop in crops:
        colour = evidence_colour(crop.p_fake)
        box = [round(crop.box.left * scale), round(crop.box.top * scale),
               round((crop.box.left + crop.box.width) * scale) - 1,
               round((crop.box.top + crop.box.height) * scale) - 1]
        draw.rectangle(box, fill=(*colour, 100), outline=(*colour, 255), width=2)
    return np.asarray(Image.alpha_composite(picture.convert("RGBA"), overlay).convert("RGB"))


def uncertain_text(threshold: float, margin: float | tuple[float, float]) -> str:
    """Where the uncertain band is, in words."""
    below, above = band_widths(margin)
    if below == above:
        return f"within {below:g} of it"
    low, high = uncertain_range(threshold, margin)
    return f"from {low:.2f} to {high:.2f}"


def meter_html(p_fake: float, threshold: float, margin: float | tuple[float, float]) -> str:
    """A bar from 0 (real) to 1 (fake): green, an amber "uncertain" band of ``margin`` either side of
    the threshold (the runtime's :func:`is_uncertain`), red; a line at the threshold and a marker at
    p_fake. Numbers read as in the text beside it: three decimals."""
    low, high = (100 * x for x in uncertain_range(threshold, margin))
    t, p = 100 * threshold, 100 * p_fake
    bands = (f"#2e7d32 0%, #2e7d32 {low:.1f}%, #f9a825 {low:.1f}%, #f9a825 {high:.1f}%, "
             f"#c62828 {high:.1f}%, #c62828 100%")
    return (
        f'<div role="meter" aria-valuemin="0" aria-valuemax="1" aria-valuenow="{p_fake:.3f}" '
        f'style="position:relative;height:14px;border-radius:7px;margin:10px 0 4px 0;'
        f'background:linear-gradient(to right, {bands})">'
        f'<div title="threshold {threshold:.3f}" style="position:absolute;left:{t:.1f}%;top:-5px;'
        f'width:2px;height:24px;background:#222"></div>'
        f'<div title="p_fake {p_fake:.3f}" style="position:absolute;left:calc({p:.1f}% - 7px);'
        f'top:-4px;width:14px;height:22px;border-radius:4px;background:#fff;border:3px solid #222">'
        f'</div></div>'
        f'<div style="display:flex;justify-content:space-between;font-size:0.8em">'
        f'<span>0 &middot; real</span><span>threshold {threshold:.3f}</span><span>fake &middot; 1</span>'
        f'</div>'
    )


# --- The page, top to bottom --------------------------------------------------------------------------


def model_ui(startup_model: str | None, allow_upload: bool = False) -> tuple[str, Detector]:
    """Sidebar: the model in use, the startup one or (only where the server was started with
    ``--allow-model-upload``) the user's upload, and its card.

    Returns (a key naming the model within this session, the detector)."""
    try:
        startup = load_detector(startup_model)
    except (ModelFileError, ImportError) as e:
        st.error(f"Cannot load the model: {e}")
        st.stop()
    state = st.session_state
    state.setdefault("model", ("startup", startup))
    upload = None
    if allow_upload:
        upload = st.sidebar.file_uploader(
            "Use your own model", type=["tflite"], key="model_file",
            help="A .tflite file written by `deepfake-dct export`. It is read in memory, used by this "
                 "session only, and not kept.",
        )
        st.sidebar.caption("Model upload is on (`--allow-model-upload`): anyone who can open this page "
                           "can have the server parse a .tflite file.")
    else:
        st.sidebar.caption("Model upload is off: this server runs its own model only. To try yours, "
                           "start the app with `deepfake-dct app --allow-model-upload`.")
    if upload is None:
        state["model"] = ("startup", startup)
    elif upload.file_id not in (state["model"][0], state.get("refused_model")):
        try:
            state["model"] = (upload.file_id, Detector(upload.getvalue(), name=upload.name))
        except ModelFileError as e:
            state["refused_model"], state["refused_reason"] = upload.file_id, str(e)
    model_key, detector = state["model"]
    if upload is not None and upload.file_id == state.get("refused_model"):
        st.sidebar.error(
            f"{upload.name} cannot be used: {state['refused_reason']} "
            f"Still using {detector.model_name}."
        )
    model_card_ui(detector)
    return model_key, detector


def model_card_ui(detector: Detector) -> None:
    """What the model file says about itself: what it learned from, how well, and its limits."""
    spec, extra = detector.spec, detector.spec.extra
    sidebar = st.sidebar
    sidebar.subheader("Model in use")
    variant = f", {extra['variant']}" if "variant" in extra else ""
    sidebar.markdown(
        f"**{detector.model_name}** ({detector.model_size_bytes / 1024:.0f} KiB{variant}; "
        f"architecture `{spec.architecture or 'not stated'}`; runs on {detector.backend})"
    )
    sidebar.markdown(f"**Trained on:** {extra.get('training_data') or spec.provenance or 'not stated.'}")
    test = extra.get("test", {})
    held_out = "not stated in this model file."
    if "accuracy" in test:
        held_out = f"accuracy **{test['accuracy']:.1%}**"
        if "n" in test:
            held_out += f" on {test['n']:,} held-out images"
        if "real_accuracy" in test and "fake_accuracy" in test:
            held_out += f" (real {test['real_accuracy']:.1%}, fake {test['fake_accuracy']:.1%})"
        if "roc_auc" in test:
            held_out += f"; ROC AUC {test['roc_auc']:.3f}"
    sidebar.markdown(f"**Held-out test:** {held_out}")
    sidebar.markdown(
        "**Limits:** " + extra.get(
            "limits",
            "not stated in this model file. A detector knows only the kinds of image and the "
            "generators it was trained on: expect it to be wrong on others.",
        )
    )
    if "licence" in extra:
        sidebar.markdown(f"**Licence:** {extra['licence']}")
    else:
        sidebar.warning("This model file states no licence: check its terms where you got it.")


@dataclass(frozen=True)
class Reading:
    """How this page reads p_fake: at the base rate the visitor states (``shift`` None: the model's
    own), with the threshold and uncertain band that flag the same images at it."""

    shift: BaseRateShift | None
    threshold: float
    margin: float | tuple[float, float]

    def p_fake(self, p: float) -> float:
        return p if self.shift is None else self.shift.p_fake(p)


def base_rate_ui(model_key: str, detector: Detector) -> Reading:
    """Sidebar: how common fakes are where the visitor's images come from, for a model file that
    records the base rate its calibration assumed; p_fake, the threshold and the band follow it."""
    own = detector.spec.calibration_base_rate
    plain = Reading(None, detector.threshold, detector.uncertain_margin)
    if own is None:
        return plain
    percent = st.sidebar.number_input(
        "Fakes you expect among images like yours (%)", min_value=0.01, max_value=99.99,
        value=round(100 * own, 2), step=1.0, format="%.2f", key=f"base-rate:{model_key}",
        help=f"A probability depends on how common fakes are. This model's p_fake assumes "
             f"{100 * own:.1f}% (its calibration images'); state yours and p_fake is restated at it. "
             "The same images are called Fake and uncertain: only what the number says changes.",
    )
    rate = percent / 100
    if abs(rate - own) < 5e-5:
        return plain
    shift = BaseRateShift(own, rate)
    return Reading(shift, *shift.operating_point(detector.threshold, detector.uncertain_margin))


def threshold_ui(model_key: str, reading: Reading) -> float:
    """Sidebar slider; it starts at the model's own threshold (at the stated base rate), and again
    for each new model or base rate."""
    return st.sidebar.slider(
        "Threshold", min_value=0.0, max_value=1.0, value=float(reading.threshold), step=0.001,
        format="%.3f", key=f"threshold:{model_key}" + ("" if reading.shift is None else f"@{reading.shift.to_rate}"),
        help=f"p_fake at or above this is called Fake. The model's own threshold, "
             f"{reading.threshold:.3f}, was chosen on validation images.",
    )


def images_ui() -> list[ImageFile]:
    """The uploader, and the switch that adds the bundled sample faces."""
    uploads = st.file_uploader(
        "Upload images", type=IMAGE_TYPES, accept_multiple_files=True, key="images",
        help="Kept in memory for this session only; nothing is stored.",
    )
    show_samples = st.toggle(
        "Try the sample faces", key="samples",
        help="Real FFHQ faces and StyleGAN2 faces from the held-out test set, 128x128; "
             "source and licences in apps/samples/SOURCE.md.",
    )
    images = [ImageFile(name=u.name, data=u.getvalue(), key=u.file_id) for u in uploads or []]
    return images + (sample_images() if show_samples else [])


def result_ui(
    index: int, image: ImageFile, result: Analysis | str, threshold: float, policy: InputPolicy,
    margin: float | tuple[float, float],
) -> dict:
    """One image: its verdict with a meter (``margin``: the model's "uncertain" band), the model's
    input, its spectrum and its departure from the mean spectrum. Returns the image's row of the
    results table."""
    row = {"file": image.name, "verdict": "error", "p_fake": None, "threshold": threshold,
           "uncertain": None, "time_ms": None, "known_answer": image.truth, "out_of_scope": "", "message": ""}
    with st.container(border=True, key=f"result-{index}"):
        st.subheader(image.name)
        if isinstance(result, str):
            st.error(f"Cannot classify {image.name}: {result}")
            return {**row, "message": result}
        label = verdict(result.p_fake, threshold)
        uncertain = is_uncertain(result.p_fake, threshold, margin)
        if result.out_of_scope:
            st.warning(f"**Outside what this model knows:** {result.out_of_scope}. It was trained on "
                       "photographs of faces and scenes; the answer below is shown for completeness, not "
                       "as a finding.", icon="⚠️")
        columns = st.columns([1.3, 1, 1, 1])
        with columns[0]:
            colour = "orange" if uncertain else {"real": "green", "fake": "red"}[label]
            hedge = " &nbsp;*uncertain: close to the threshold*" if uncertain else ""
            st.markdown(f"### :{colour}[{label.capitalize()}]{hedge}")
            st.markdown(meter_html(result.p_fake, threshold, margin), unsafe_allow_html=True)
            st.caption(
                f"p_fake = **{result.p_fake:.3f}**, the model's estimate that the image is generated "
                f"(0 = surely real, 1 = surely fake). At or above the threshold, {threshold:.3f}, it "
                f"says Fake; {uncertain_text(threshold, margin)}, treat the verdict as uncertain. "
                f"Took {1000 * result.seconds:.0f} ms."
            )
            if image.truth:
                st.caption(f"Known answer for this sample: **{image.truth}**.")
        jpeg = f", re-encoded as JPEG quality {policy.jpeg_quality}" if policy.jpeg_quality else ""
        crops = (f" (the most fake-looking of {result.crop_count} native-resolution crops)"
                 if result.crop_count > 1 else "")
        luma = result.spectrum.shape[-1] == 1
        columns[1].image(result.model_input, channels="RGB", output_format="PNG", width="stretch",
                         caption=f"What the model reads: {policy.width}x{policy.height}{jpeg}"
                                 f"{', as its luma (brightness) alone' if luma else ''}{crops}")
        columns[2].image(spectrum_picture(result.spectrum), output_format="PNG", width="stretch",
                         caption=f"Its log-DCT spectrum ({'of its luma' if luma else 'mean of R, G, B'}): "
                                 "low frequencies top left, high bottom right; light = strong")
        if result.departure is None:
            columns[3].caption("This model reads pixels, not the spectrum: no departure to show.")
        else:
            columns[3].image(
                departure_picture(result.departure), output_format="PNG", width="stretch",
                caption="How it departs from the training images' mean spectrum (real and fake "
                        "together): red = stronger, blue = weaker. Look for a regular grid of dots "
                        "or lines, mostly bottom right: GAN upsampling can leave one. At this size it "
                        "is faint, and one image's map is noisy.",
            )
        if result.crop_count > 1:
            st.image(result.evidence, output_format="PNG", width=480,
                     caption=f"Where the evidence is: the {result.crop_count} crops the model read, each "
                             "tinted by its own p_fake (green 0 = real, amber 0.5, red 1 = fake). The "
                             "verdict averages their logits; one red region in a green photo can be a "
                             "pasted face or a generated background.")
    return {**row, "verdict": label, "p_fake": round(result.p_fake, 4), "uncertain": uncertain,
            "time_ms": round(1000 * result.seconds, 1), "out_of_scope": result.out_of_scope or ""}


#: Results-table columns that are often empty, and what they hold when they are not.
OPTIONAL_COLUMNS = {
    "known_answer": "the true class of a bundled sample face",
    "out_of_scope": "why the image is unlike the photos the model was trained on (its verdict is unreliable)",
    "message": "why a file could not be classified",
}


def table_ui(rows: list[dict]) -> None:
    """The results of all images, and the same as CSV. A column of OPTIONAL_COLUMNS is shown only
    when some row fills it, and is then explained under the table."""
    table = pd.DataFrame(rows)
    empty = [name for name in OPTIONAL_COLUMNS if not table[name].astype(bool).any()]
    table = table.drop(columns=empty)
    with st.container(key="results"):
        st.subheader("All results")
        st.dataframe(table, hide_index=True)
        shown = [f"`{name}`: {text}" for name, text in OPTIONAL_COLUMNS.items() if name in table]
        st.caption("; ".join(["`uncertain`: p_fake is near the threshold", *shown]) + ".")
        st.download_button("Download as CSV", table.to_csv(index=False), file_name="deepfake-dct.csv",
                           mime="text/csv")


def how_it_works_ui(detector: Detector) -> None:
    """The pipeline, with the network's layers read from the loaded model file."""
    spec, policy = detector.spec, detector.spec.policy
    if policy.mode == "tiles":
        fitted = (f"cut into up to {policy.grid}x{policy.grid} crops of {policy.width}x{policy.height} "
                  f"pixels on a fixed grid, at native resolution (never resampled); each crop is scored "
                  f"and the verdict averages their logits.")
    else:
        fitted = (f"centre-cropped to the input's shape and downscaled to {policy.width}x{policy.height} "
                  f"({policy.resample} filter).")
    steps = [
        f"**Image to input.** The file is decoded as RGB (EXIF rotation applied) and {fitted} A "
        f"smaller image is refused: upsampling would paint the very patterns the model looks for."
        + (f" It is then re-encoded as JPEG quality {policy.jpeg_quality}, as every training image "
           f"was." if policy.jpeg_quality else ""),
    ]
    luma = spec.colour == "luma"
    if luma:
        steps.append("**Luma.** Only the crop's brightness is read (ITU-R BT.601 greyscale, as JPEG "
                     "stores it): a greyscale copy of a photo gets the same verdict as the photo.")
    if "log_dct" in spec.input_names:
        steps += [
            "**DCT.** The 2-D discrete cosine transform of "
            + ("the luma" if luma else "each colour channel (R, G, B)")
            + " turns the picture into frequencies: coarse shapes top left, fine detail bottom right.",
            f"**log.** log(|DCT| + {spec.log_eps:g}), so that weak and strong frequencies both count.",
            "**Normalise.** Each coefficient minus its mean over the training images, divided by its "
            "standard deviation (both stored in the model file): the departure picture above.",
        ]
    if "pixels" in spec.input_names:
        steps.append(f"**Pixels.** The {'luma' if luma else 'RGB'} values scaled to [-1, 1].")
    steps += [
        f"**CNN** (`{spec.architecture or 'not stated'}`), the layers below, gives **p_fake**.",
        f"**Verdict.** Fake if p_fake is at or above the threshold, else Real. The model's own "
        f"threshold is {detector.threshold:.3f}; the sidebar's slider moves it.",
    ]
    with st.expander("How it works: image -> DCT -> log -> normalise -> CNN -> p_fake"):
        st.markdown("\n".join(f"{i}. {step}" for i, step in enumerate(steps, 1)))
        layers = pd.DataFrame(layer_table(detector.interpreter))
        layers["output_shape"] = layers["output_shape"].map(lambda s: " x ".join(map(str, s)))
        st.dataframe(layers, hide_index=True)
        st.caption(
            f"{int(layers['parameters'].sum()):,} parameters, read from {detector.model_name}: "
            "TFLite ops in execution order (batch first in shapes)."
        )


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="streamlit_app.py", allow_abbrev=False)
    parser.add_argument("--model", default=None, help=".tflite model file (default: the bundled model)")
    parser.add_argument("--allow-model-upload", action="store_true",
                        help="let visitors upload their own .tflite (default: off)")
    return parser.parse_known_args(argv)[0]


def main() -> None:
    st.set_page_config(page_title="deepfake-dct: real or GAN?", layout="wide")
    st.title("Real or GAN-generated?")
    st.markdown(
        "Upload face images and a small network reads their frequency spectrum, as in Frank et al., "
        "*Leveraging Frequency Analysis for Deep Fake Image Recognition* (ICML 2020)."
    )
    args = parse_args(sys.argv[1:])
    model_key, detector = model_ui(args.model, args.allow_model_upload)
    reading = base_rate_ui(model_key, detector)
    threshold = threshold_ui(model_key, reading)
    images = images_ui()
    if not images:
        st.info("Upload images, or switch on the sample faces, to see a verdict.")
    results = [r if isinstance(r, str) else dataclasses.replace(r, p_fake=reading.p_fake(r.p_fake))
               for r in analyses_for(detector, model_key, images)]
    rows = [result_ui(i, image, result, threshold, detector.spec.policy, reading.margin)
            for i, (image, result) in enumerate(zip(images, results))]
    if len(rows) > 1:
        table_ui(rows)
    how_it_works_ui(detector)


if __name__ == "__main__":
    main()
