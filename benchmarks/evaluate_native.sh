#!/usr/bin/env bash
# The native-resolution evaluation of docs/NATIVE.md: per-source scores on the held-out test split
# of a dataset built by `deepfake-dct dataset build` (as stored, and with both classes re-encoded
# at JPEG q75), and the processing-invariance table. Prints each command before running it.
#
#   bash benchmarks/evaluate_native.sh DATA [MODEL] [OUT] [OTHER]
#
# DATA: the dataset folder (DATA/test/{real,fake}/<generator>/...); MODEL: a .tflite (default: the
# bundled model); OUT: where the reports go (default: eval/native); OTHER: the out-of-scope set
# (`deepfake-dct dataset build --manifest training/manifests/out_of_scope_v1.csv.gz --out OTHER`),
# whose images the first evaluation also scores for the out-of-scope warning.
set -euo pipefail
DATA=${1:?usage: evaluate_native.sh DATA [MODEL] [OUT]}
MODEL=${2:-$(python -c 'from deepfake_dct import default_model_path; print(default_model_path())')}
OUT=${3:-eval/native}
OTHER=${4:-}
T="$DATA/test"

# FFHQ reals come from two sources saved differently (PNG as NVIDIA ships them, JPEG q75 re-saved
# by a third party): score them as two sources, so a compression-history shortcut shows by name.
SPLIT=$(mktemp -d)
trap 'rm -rf "$SPLIT"' EXIT
mkdir -p "$SPLIT/ffhq-png" "$SPLIT/ffhq-q75"
for f in "$T"/real/ffhq/*; do
  case "$f" in *.png) ln -s "$(realpath "$f")" "$SPLIT/ffhq-png/" ;; *) ln -s "$(realpath "$f")" "$SPLIT/ffhq-q75/" ;; esac
done

REALS=("$SPLIT/ffhq-png" "$SPLIT/ffhq-q75" "$T/real/photo" "$T/real/camera" "$T/real/lfw" "$T/real/cyclegan-input")
FAKES=("$T/fake/stylegan2" "$T/fake/stylegan3" "$T/fake/stable-diffusion" "$T/fake/cyclegan")
# Sources of the native_v2 manifest, scored when the dataset has them (a native_v1 build does not).
if [ -d "$T/real/celeba-hq" ]; then REALS+=("$T/real/celeba-hq"); fi
# ... and of native_v5 (web photos of public figures, test only).
if [ -d "$T/real/web-photo" ]; then REALS+=("$T/real/web-photo"); fi
if [ -d "$T/fake/stable-diffusion-2.1" ]; then FAKES+=("$T/fake/stable-diffusion-2.1"); fi
run() { echo "+ $*" >&2; "$@"; }
OTHERS=()
if [ -n "$OTHER" ]; then OTHERS=(--other "$OTHER"/test/other/*); fi
run deepfake-dct evaluate --model "$MODEL" --real "${REALS[@]}" --fake "${FAKES[@]}" "${OTHERS[@]}" --out "$OUT/sources" || [ $? -eq 1 ]   # 1: some files skipped (listed in the report)
run deepfake-dct evaluate --model "$MODEL" --jpeg 75 --real "${REALS[@]}" --fake "${FAKES[@]}" --out "$OUT/sources_q75" || [ $? -eq 1 ]   # 1: some files skipped (listed in the report)
run deepfake-dct evaluate --model "$MODEL" --invariance --real "$SPLIT/ffhq-png" "$SPLIT/ffhq-q75" "$T/real/photo" "$T/real/camera" \
  --fake "$T/fake/stylegan2" "$T/fake/stylegan3" --out "$OUT/invariance" || [ $? -eq 1 ]   # 1: some files skipped (listed in the report)
