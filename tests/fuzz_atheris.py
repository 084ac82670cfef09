"""Coverage-guided fuzzing of the decoding path with atheris (optional; not collected by pytest).

    pip install atheris
    python tests/fuzz_atheris.py -max_total_time=600 -rss_limit_mb=4096 [corpus_dir]

Any input must give a verdict or an ImageError; another exception, a crash, a hang past libFuzzer's
-timeout (default 1200 s: pass e.g. -timeout=10) or memory past -rss_limit_mb is a finding, saved by
libFuzzer as crash-*/timeout-*/oom-* in the current folder. Seed the corpus with small valid images
(e.g. tests/data) so that it starts past the file signatures. The bounded property-based run that CI
does is tests/test_fuzz.py.
"""

import sys

import atheris

with atheris.instrument_imports():
    from deepfake_dct.detector import Detector, ImageError

DETECTOR = Detector.from_file()


def test_one_input(data: bytes) -> None:
    try:
        result = DETECTOR.detect(data)
    except ImageError:
        return
    if result.label not in ("real", "fake") or not 0.0 <= result.p_fake <= 1.0:
        raise AssertionError(f"Expected a verdict in [0, 1], got {result}.")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
