import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from deepfake_dct.training import metrics


def test_roc_auc_random_scores_match_sklearn(rng):
    labels = rng.integers(0, 2, 500)
    scores = np.round(rng.uniform(0, 1, 500), 2)  # rounded: many ties
    assert metrics.roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_roc_auc_perfect_and_inverted_scores_give_one_and_zero():
    labels = [0, 0, 1, 1]
    assert metrics.roc_auc(labels, [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert metrics.roc_auc(labels, [0.9, 0.8, 0.2, 0.1]) == 0.0


def test_roc_auc_one_class_raises():
    with pytest.raises(ValueError, match="Expected both classes"):
        metrics.roc_auc([1, 1], [0.2, 0.3])


def test_best_threshold_separable_scores_splits_classes():
    labels = [0, 0, 0, 1, 1, 1]
    scores = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]
    threshold = metrics.best_threshold(labels, scores)
    assert 0.3 < threshold < 0.6
    assert metrics.accuracy(labels, scores, threshold) == 1.0


def test_reals_flagged_at_counts_the_reals_alone():
    assert metrics.reals_flagged_at([0, 0, 1, 0], [0.2, 0.8, 0.9, 0.4], 0.5) == {"flagged": 1 / 3, "images": 3}
    assert metrics.reals_flagged_at([1], [0.9], 0.5) == {"flagged": None, "images": 0}


def test_threshold_flagging_at_most_a_share_of_reals_sits_just_above_the_next_real():
    labels = np.r_[np.zeros(100), np.ones(3)]
    scores = np.r_[np.linspace(0.0, 0.99, 100), [0.2, 0.985, 0.999]]  # reals' top three: 0.97, 0.98, 0.99
    threshold = metrics.threshold_flagging_at_most(labels, scores, 0.02)
    assert 0.97 < threshold < 0.971
    assert np.mean(scores[:100] >= threshold) == 0.02 and np.mean(scores[100:] >= threshold) == 2 / 3
    assert metrics.threshold_flagging_at_most(labels, scores, 0.0) > 0.99
    with pytest.raises(ValueError, match="real image"):
        metrics.threshold_flagging_at_most([1, 1], [0.2, 0.3], 0.02)
    for share in (-0.1, 1.0, 1.5):
        with pytest.raises(ValueError, match=f"Expected a share of reals flagged in \\[0, 1\\), got {share}"):
            metrics.threshold_flagging_at_most(labels, scores, share)


def test_summary_counts_per_class_accuracy():
    s = metrics.summary([0, 0, 1, 1], [0.1, 0.7, 0.8, 0.9], 0.5)
    assert s["real_accuracy"] == 0.5 and s["fake_accuracy"] == 1.0 and s["accuracy"] == 0.75
    assert s["balanced_accuracy"] == 0.75


def test_fit_temperature_recovers_the_temperature_that_made_overconfident_scores(rng):
    logits = rng.normal(0, 2, 20000)
    labels = (rng.uniform(size=logits.size) < 1 / (1 + np.exp(-logits))).astype(int)  # calibrated
    overconfident = 1 / (1 + np.exp(-3 * logits))
    assert metrics.fit_temperature(labels, overconfident) == pytest.approx(3.0, rel=0.05)


def test_apply_temperature_keeps_order_and_one_keeps_scores(rng):
    p = rng.uniform(0.01, 0.99, 50)
    np.testing.assert_allclose(metrics.apply_temperature(p, 1.0), p, atol=1e-12)
    assert np.array_equal(np.argsort(metrics.apply_temperature(p, 2.5)), np.argsort(p))


def test_fakes_caught_where_at_most_5_percent_of_reals_are_flagged():
    from deepfake_dct.evaluation.metrics import fakes_caught_at_reals_flagged

    reals = np.linspace(0.0, 0.99, 100)          # the 5 highest: 0.95 .. 0.99
    fakes = np.array([0.5, 0.96, 0.97, 0.999])
    point = fakes_caught_at_reals_flagged(np.r_[np.zeros(100), np.ones(4)], np.r_[reals, fakes])
    assert point["reals_flagged"] == 0.05 and point["fakes_caught"] == 0.75
    assert 0.94 < point["threshold"] <= 0.95
