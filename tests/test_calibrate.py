"""What a model file says about its own confidence: the uncertain band read off validation scores
(the temperature fit itself is in test_metrics)."""

import numpy as np

from deepfake_dct.training.calibrate import MIN_RING_IMAGES, RING_WIDTH, uncertain_margin


def test_no_band_when_every_ring_is_accurate():
    p = np.linspace(0.0, 1.0, 201)
    labels = (p >= 0.5).astype(int)
    assert uncertain_margin(labels, p, 0.5) == 0.0


def test_band_reaches_the_outer_edge_of_the_farthest_inaccurate_ring():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.0, 1.0, 4000)
    labels = (p >= 0.5).astype(int)
    near = np.abs(p - 0.5) < 0.12  # within 0.12 of the threshold: verdicts are coin flips
    labels[near] = rng.integers(0, 2, int(near.sum()))
    assert uncertain_margin(labels, p, 0.5) == round(3 * RING_WIDTH, 4)  # rings 0-0.05, 0.05-0.10, 0.10-0.15
    labels[(p < 0.5) & ~near] = 1  # every confident "real" verdict wrong: only the band below grows
    assert uncertain_margin(labels, p, 0.5, side=1) == round(3 * RING_WIDTH, 4)
    assert uncertain_margin(labels, p, 0.5, side=-1) == 0.5


def test_rings_with_too_few_images_do_not_count():
    p = np.array([0.52] * (MIN_RING_IMAGES - 1) + [0.9] * 50)
    labels = np.array([0] * (MIN_RING_IMAGES - 1) + [1] * 50)  # the near ones all wrong, but few
    assert uncertain_margin(labels, p, 0.5) == 0.0
