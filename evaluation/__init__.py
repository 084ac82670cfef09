"""``deepfake-dct evaluate``: score a model on folders of real and fake images, how it holds up under
re-compression, resizing, blur, noise and cropping, and how it compares with the paper's recipes.

    evaluation.metrics   metrics beyond ``deepfake_dct.training.metrics``: average precision, calibration, confusion
    evaluation.perturb   deterministic perturbations at fixed strengths (the robustness matrix)
    evaluation.score     a model (``.tflite`` or a Keras run folder) + images -> p_fake per condition
    evaluation.plots     ROC, score histograms, reliability diagram, robustness curves (matplotlib)
    evaluation.report    reports, tables and the files one evaluation writes
    evaluation.compare   train the paper's recipes and this project's default on one split, side by side
    evaluation.cli       the command line

Scoring a ``.tflite`` never imports TensorFlow; matplotlib is imported only where plots are written.
"""
