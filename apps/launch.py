"""``deepfake-dct app [--port N] [--model FILE] [--address HOST] [--allow-model-upload]``: starts the
Streamlit uploader.

Runs ``python -m streamlit run apps/streamlit_app.py`` with this interpreter, headless (Streamlit
prints the address to open instead of asking questions on first start), without Streamlit's usage
statistics or its developer toolbar, and listening on localhost only unless ``--address`` says
otherwise. Visitors may upload a model of their own only with ``--allow-model-upload``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent / "streamlit_app.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="deepfake-dct app", description="Open the Streamlit uploader: real or GAN-generated?"
    )
    parser.add_argument("--port", type=int, default=None,
                        help="port to serve on (default: 8501, or the next free one)")
    parser.add_argument("--model", default=None, help=".tflite model file (default: the bundled model)")
    parser.add_argument("--address", default="localhost",
                        help="address to listen on (default: localhost; 0.0.0.0 serves your network)")
    parser.add_argument("--allow-model-upload", action="store_true",
                        help="let visitors upload their own .tflite, which the server then parses "
                             "(default: off: the server runs its startup model only)")
    return parser


def streamlit_command(args: argparse.Namespace) -> list[str]:
    """The command line that serves the app; the app reads --model and --allow-model-upload after
    the ``--``."""
    command = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", args.address,
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
    ]
    if args.port is not None:
        command += ["--server.port", str(args.port)]
    app_args = ["--model", str(Path(args.model).resolve())] if args.model else []
    if args.allow_model_upload:
        app_args.append("--allow-model-upload")
    return command + ["--", *app_args] if app_args else command


def server_environment() -> dict[str, str]:
    """This environment, with numpy's BLAS on one thread unless the caller chose otherwise.

    The DCT is two 128x128 matrix products per channel: BLAS threads only add overhead there, and
    on a busy 2-core machine their spinning fights the TFLite interpreter's (measured: log-DCT
    0.3 ms on one BLAS thread, 2 to 15 ms on the default two)."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if importlib.util.find_spec("streamlit") is None:
        print("ERROR: the app needs Streamlit: pip install 'deepfake-dct[apps]'", file=sys.stderr)
        return 2
    if args.model:
        from deepfake_dct.detector import Detector, ModelFileError

        try:
            Detector.from_file(args.model).close()  # Refuse a bad model here, not in the browser.
        except (ModelFileError, ImportError) as e:  # ImportError: no TFLite interpreter installed.
            print(f"ERROR: {e}", file=sys.stderr)
            return 2
    # Become the server rather than start it as a child: a signal meant for `deepfake-dct app`
    # (Ctrl-C, a test's terminate(), a service manager's stop) then reaches Streamlit itself
    # instead of killing a launcher and leaving an orphaned server behind.
    command = streamlit_command(args)
    os.execve(command[0], command, server_environment())
    return 0  # Not reached: execve replaces this process.
