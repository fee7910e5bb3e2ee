"""HDR: handwritten digit recognition, from any picture to a fast, well-measured prediction.

The names below are the supported API; everything else is internal. They are imported on first
use (PEP 562), so ``import hdr`` is instant and TensorFlow loads only when a name needs it::

    import hdr

    predictor = hdr.Predictor.load()  # the active model (the shipped default until you pick another)
    predictor.predict("seven.png").digit  # 7
    hdr.read_digits("invoice.jpg", predictor).text  # "2026"
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Each public name and the module that defines it.
_HOMES = {
    # Predicting and reading
    "Predictor": "hdr.predict",
    "Prediction": "hdr.predict",
    "read_digits": "hdr.read",
    "Reading": "hdr.read",
    # The picture pipeline (no TensorFlow)
    "to_mnist": "hdr.preprocess",
    "preprocess_many": "hdr.preprocess",
    "Preprocessed": "hdr.preprocess",
    "ImageError": "hdr.decode",
    # Data
    "load_mnist": "hdr.data",
    "load_csv": "hdr.data",
    "load_image_folder": "hdr.data",
    "Mnist": "hdr.data",
    "DataError": "hdr.data",
    "load_handwriting": "hdr.handwriting",
    "HandwritingSet": "hdr.handwriting",
    # Configs and training
    "ModelConfig": "hdr.config",
    "TrainConfig": "hdr.config",
    "PRESETS": "hdr.config",
    "preset_config": "hdr.config",
    "build_model": "hdr.models",
    "train_model": "hdr.train",
    "TrainResult": "hdr.train",
    "Progress": "hdr.train",
    # Evaluation, export and explanation
    "evaluate_model": "hdr.evaluate",
    "Classifier": "hdr.evaluate",
    "Metrics": "hdr.evaluate",
    "fit_temperature": "hdr.calibrate",
    "expected_calibration_error": "hdr.calibrate",
    "export_tflite": "hdr.export",
    "TFLiteModel": "hdr.export",
    "ExportError": "hdr.export",
    "Explainer": "hdr.explain",
    # Saved models
    "ModelCard": "hdr.store",
    "ModelStoreError": "hdr.store",
    "save_model": "hdr.store",
    "list_models": "hdr.store",
    "active_model": "hdr.store",
}
__all__ = ["__version__", *_HOMES]


def __getattr__(name: str) -> Any:
    """Imports a public name from its module the first time it is asked for."""
    if name not in _HOMES:
        raise AttributeError(f"module 'hdr' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
