"""``deepfake-dct batch``: score many images on Apache Beam, on this machine or on a cluster.

    deepfake-dct batch 'photos/**/*.jpg' --output scores/run1
    deepfake-dct batch --paths-from gs://bucket/list.txt --output gs://bucket/scores/run1 \\
        --runner FlinkRunner --flink_master host:8081 --environment_type LOOPBACK

One module a concern: ``handler`` (the RunInference model handler around the runtime's
:class:`~deepfake_dct.detector.Detector`, and the one function that turns a file into its record),
``pipeline`` (inputs expanded into files, scored, written as sharded JSON lines or Parquet) and
``cli`` (:func:`main`). Records are ``deepfake-dct detect --json``'s, made by the same function.
Needs the base install plus ``.[batch]`` (Apache Beam); workers run numpy, Pillow and a TFLite
interpreter, never TensorFlow. Importing this package imports no Beam: the modules do.
"""

#: Images per RunInference call at most. Elements are paths and each is read, decoded and scored in
#: turn, so the batch size bounds only how long one call runs (256 x 1.5 ms for 128x128 PNGs, 256 x
#: 11 ms for 1024x1024 JPEGs on one core), never memory; Beam's BatchElements grows batches up to
#: this from 1 as long as a batch stays well under its time target, which amortises the per-call
#: cost of small images and keeps large ones from holding a bundle for long.
DEFAULT_MAX_BATCH_SIZE = 256

#: Output formats: JSON lines (what ``detect --json`` prints), or Parquet (pyarrow comes with Beam).
FORMATS = ("jsonl", "parquet")
