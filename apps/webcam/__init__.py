"""``deepfake-dct webcam``: classify the frames of a camera, a video, a stream or an image folder."""

from deepfake_dct.apps.webcam.sources import (  # noqa: F401
    FACE_CROP_SCALE,
    CaptureSource,
    FaceFinder,
    RegionResult,
    RunOptions,
    Smoother,
    Summary,
    WebcamError,
    _quiet_opencv,
    center_box,
    classify_frame,
    draw_overlay,
    face_crop_box,
    frame_score,
    json_record,
    main,
    run,
    to_bgr,
)
