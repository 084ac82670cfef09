"""``deepfake-dct ensemble``: runs of one recipe at other seeds joined into one averaged network, each
member fed exactly the inputs it trained on, and runs that cannot be joined refused by name."""

import dataclasses
import json

import numpy as np
import pytest

from helpers import TILE, trained_tiles_run
from deepfake_dct.detector.features import Normalisation
from deepfake_dct.detector.images import InputPolicy
from deepfake_dct.detector.model_file import ModelSpec
from deepfake_dct.training.ensemble import check_joinable

SPLIT = {"files": {"train": ["train/real/a.png"], "val": ["val/real/b.png"]}, "labels": {"train": [0], "val": [0]}}


def _spec(**changes) -> ModelSpec:
    shape = (TILE, TILE, 1)
    spec = ModelSpec(policy=InputPolicy(TILE, TILE, mode="tiles", grid=2), colour="luma",
                     normalisation=Normalisation(np.zeros(shape, np.float32), np.ones(shape, np.float32)))
    return dataclasses.replace(spec, **changes)


def test_runs_that_read_other_inputs_or_were_split_otherwise_are_refused_by_name():
    runs = ["runs/a", "runs/b"]
    check_joinable([_spec(), _spec(threshold=0.7)], [SPLIT, SPLIT], runs)  # calibration may differ
    with pytest.raises(ValueError, match="at least two runs"):
        check_joinable([_spec()], [SPLIT], runs[:1])
    with pytest.raises(ValueError, match="runs/b reads other inputs than runs/a: its log_eps is 0.5, not "):
        check_joinable([_spec(), _spec(log_eps=0.5)], [SPLIT, SPLIT], runs)
    other_grid = _spec(policy=InputPolicy(TILE, TILE, mode="tiles", grid=3))
    with pytest.raises(ValueError, match="its policy is"):
        check_joinable([_spec(), other_grid], [SPLIT, SPLIT], runs)
    resplit = {**SPLIT, "labels": {"train": [1], "val": [0]}}
    with pytest.raises(ValueError, match="runs/b was split differently from runs/a"):
        check_joinable([_spec(), _spec()], [SPLIT, resplit], runs)


@pytest.mark.slow
def test_joined_runs_average_their_members_on_their_own_inputs_and_export(presplit_data, tmp_path, capsys):
    import keras

    from deepfake_dct.cli import main
    from deepfake_dct.detector import Detector
    from deepfake_dct.export.convert import export
    from deepfake_dct.export.options import ExportOptions
    from deepfake_dct.training import rundir
    from deepfake_dct.training.data import image_inputs

    runs = [trained_tiles_run(presplit_data, tmp_path / f"s{seed}", colour="luma", epochs=1, seed=seed)[0]
            for seed in (0, 1)]
    specs = [rundir.load_spec(r) for r in runs]
    assert not np.array_equal(specs[0].normalisation.mean, specs[1].normalisation.mean)  # seeded crops
    joined = tmp_path / "joined"
    assert main(["ensemble", *map(str, runs), "--out", str(joined)]) == 0
    out = capsys.readouterr().out
    assert "2 x native_net, p_fake averaged" in out and "(grid 2): validation ROC AUC" in out

    image = presplit_data / "test" / "fake" / "gen" / "f1.png"
    spec = rundir.load_spec(joined)
    np.testing.assert_array_equal(spec.normalisation.mean, specs[0].normalisation.mean)  # the first member's
    model = keras.models.load_model(joined / rundir.MODEL, compile=False, safe_mode=True)
    averaged = np.asarray(model(image_inputs(image, spec), training=False)).reshape(-1)
    each = [np.asarray(keras.models.load_model(r / rundir.MODEL, compile=False, safe_mode=True)(
        image_inputs(image, s), training=False)).reshape(-1) for r, s in zip(runs, specs)]
    np.testing.assert_allclose(averaged, np.mean(each, axis=0), atol=1e-5)  # each read its own normalisation
    report = json.loads((joined / rundir.REPORT).read_text())
    assert report["test"]["n"] == 24 and list(report["members"]) == [str(r) for r in runs]
    assert spec.threshold == report["threshold"] and spec.scope is not None

    export(joined, tmp_path / "export", ExportOptions(variants=("dynamic",), max_accuracy_drop=100))
    with Detector.from_file(tmp_path / "export" / "model_dynamic.tflite") as detector:
        assert detector.spec.architecture == "2 x native_net, p_fake averaged"
        detection = detector.detect(image)
    assert len(detection.crops) == 4 and 0.0 <= detection.p_fake <= 1.0

    runs[1].joinpath(rundir.SPLIT).write_text(json.dumps({**json.loads(runs[0].joinpath(rundir.SPLIT).read_text()),
                                                          "labels": {"train": [], "val": [], "test": []}}))
    assert main(["ensemble", *map(str, runs), "--out", str(tmp_path / "refused")]) == 2
    assert "was split differently" in capsys.readouterr().err and not (tmp_path / "refused").exists()
