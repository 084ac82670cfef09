"""evaluation.report: the per-source and processing-invariance tables."""

import numpy as np
import pytest

from deepfake_dct.evaluation.perturb import CLEAN, FILTERS, INVARIANCE, Condition
from deepfake_dct.evaluation.report import invariance_rows, source_of, source_rows, source_table
from deepfake_dct.evaluation.score import Item, Scores


def make_scores(p_fake_rows, keys, labels, conditions):
    items = [Item(path=None, label=y, key=k) for k, y in zip(keys, labels)]
    return Scores(tuple(conditions), items, np.asarray(p_fake_rows, dtype=np.float64))


def test_source_of_is_first_folder_within_class_folder():
    assert source_of(Item(None, 1, "stylegan3/a/b.png")) == "stylegan3"
    assert source_of(Item(None, 0, "b.png")) == "(top level)"


def test_source_rows_flagged_share_and_auc_per_fake_source_against_all_reals():
    keys = ["ffhq/a", "ffhq/b", "photo/c", "sg2/d", "sg2/e", "sg3/f", "sg3/g"]
    labels = [0, 0, 0, 1, 1, 1, 1]
    p = [0.1, 0.6, 0.2, 0.9, 0.8, 0.3, 0.15]
    rows = {(r["class"], r["source"]): r for r in source_rows(make_scores([p], keys, labels, [CLEAN]), 0.5)}
    assert rows[("real", "ffhq")]["images"] == 2 and rows[("real", "ffhq")]["flagged_fake"] == 0.5
    assert rows[("real", "photo")]["roc_auc_vs_reals"] is None
    assert rows[("fake", "sg2")]["flagged_fake"] == 1.0 and rows[("fake", "sg2")]["roc_auc_vs_reals"] == 1.0
    # sg3 scores 0.3 and 0.15 against reals 0.1, 0.6, 0.2: 3 of 6 pairs ranked right.
    assert rows[("fake", "sg3")]["roc_auc_vs_reals"] == 0.5
    assert "uncertain" not in rows[("fake", "sg3")]


def test_a_fake_sources_auc_against_each_real_source_shows_what_the_pooled_one_hides():
    # 8 reals of a source the model "knows" (all 0.01) and 2 of another it scores high: pooled, the
    # fakes look well separated; against the small source they are not.
    keys = [f"lfw/{i}" for i in range(8)] + ["ffhq/a", "ffhq/b", "sg3/c", "sg3/d"]
    labels = [0] * 10 + [1, 1]
    p = [0.01] * 8 + [0.7, 0.9, 0.6, 0.8]
    rows = {(r["class"], r["source"]): r for r in source_rows(make_scores([p], keys, labels, [CLEAN]), 0.5)}
    sg3 = rows[("fake", "sg3")]
    assert sg3["roc_auc_vs_reals"] == (16 + 1) / 20  # 0.6 and 0.8 above all 8 lfw; of ffhq, only 0.8 > 0.7
    assert sg3["roc_auc_vs_each_real_source"] == {"ffhq": 0.25, "lfw": 1.0}
    assert sg3["roc_auc_real_sources_alike"] == 0.625 and sg3["lowest_real_source"] == "ffhq"
    assert "| 0.8500 | 0.6250 | 0.2500 (ffhq) |" in source_table(list(rows.values()))
    assert "roc_auc_real_sources_alike" not in rows[("real", "ffhq")]


def test_source_rows_share_marked_uncertain_follows_the_models_one_sided_band():
    keys, labels = ["ffhq/a", "ffhq/b", "ffhq/c", "sg2/d", "sg2/e"], [0, 0, 0, 1, 1]
    p = [0.1, 0.35, 0.45, 0.55, 0.95]  # band (0.2 below, 0 above) of 0.5 covers [0.3, 0.5)
    rows = {r["source"]: r for r in source_rows(make_scores([p], keys, labels, [CLEAN]), 0.5,
                                                 uncertain_band=(0.2, 0.0))}
    assert rows["ffhq"]["uncertain"] == 2 / 3 and rows["sg2"]["uncertain"] == 0.0
    assert "| uncertain |" in source_table(list(rows.values()))


def test_each_sources_row_gives_the_calibration_error_of_the_others_so_the_gaps_source_shows():
    # Reals at 0.05 and caught fakes at 0.95 are calibrated within 0.05; a fake source scored 0.05
    # (a generator the model cannot see) is what puts the pooled ECE where it is.
    keys = [f"ffhq/{i}" for i in range(4)] + ["sg2/a", "sg2/b", "sd/c", "sd/d"]
    labels = [0] * 4 + [1] * 4
    p = [0.05] * 4 + [0.95, 0.95, 0.05, 0.05]
    rows = {r["source"]: r for r in source_rows(make_scores([p], keys, labels, [CLEAN]), 0.5)}
    # Without sd: 4 reals at 0.05 (fraction fake 0) and 2 fakes at 0.95 (fraction 1): 0.05 everywhere.
    assert rows["sd"]["ece_without"] == pytest.approx(0.05)
    # Without ffhq: the low bin is the two sd fakes, mean 0.05 against fraction 1: (2/4) 0.95 + (2/4) 0.05.
    assert rows["ffhq"]["ece_without"] == pytest.approx(0.5)
    assert "| ECE without it |" in source_table(list(rows.values()))
    lone = source_rows(make_scores([[0.05, 0.95]], ["ffhq/a", "ffhq/b"], [0, 0], [CLEAN]), 0.5)
    assert "ece_without" not in lone[0]  # one source: nothing would be left


def test_invariance_rows_give_reals_and_fakes_flagged_per_condition():
    conditions = [CLEAN, Condition.single("jpeg", 75)]
    scores = make_scores([[0.1, 0.7, 0.9, 0.8], [0.6, 0.7, 0.9, 0.2]], ["a", "b", "c", "d"], [0, 0, 1, 1],
                         conditions)
    rows = invariance_rows(scores, 0.5)
    assert [r["condition"] for r in rows] == ["clean", "JPEG q75"]
    assert rows[0]["reals_flagged"] == 0.5 and rows[0]["fakes_flagged"] == 1.0
    assert rows[1]["reals_flagged"] == 1.0 and rows[1]["fakes_flagged"] == 0.5


def test_invariance_conditions_resize_with_every_filter_and_halve_the_size(face_like):
    names = [c.name for c in INVARIANCE]
    assert all(f"resize x0.5 {f}" in names for f in FILTERS)
    resized = [c for c in INVARIANCE if c.family.startswith("resize-")]
    assert {c.apply(face_like, 0, "k").shape for c in resized} == {(64, 64, 3)}


def test_folder_items_several_folders_per_class_name_their_sources(tmp_path, face_like):
    from PIL import Image

    from deepfake_dct.evaluation.score import folder_items

    for folder in ("ffhq", "photos", "sg2"):
        (tmp_path / folder).mkdir()
        Image.fromarray(face_like).save(tmp_path / folder / "a.png")
    items = folder_items([tmp_path / "ffhq", tmp_path / "photos"], tmp_path / "sg2")
    assert [(source_of(i), i.label) for i in items] == [("ffhq", 0), ("photos", 0), ("(top level)", 1)]
