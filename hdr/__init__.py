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
    "Predictor": "hdr.inference.predict",
    "Prediction": "hdr.inference.predict",
    "read_digits": "hdr.inference.read",
    "Reading": "hdr.inference.read",
    # The picture pipeline (no TensorFlow)
    "to_mnist": "hdr.imaging.preprocess",
    "preprocess_many": "hdr.imaging.preprocess",
    "Preprocessed": "hdr.imaging.preprocess",
    "ImageError": "hdr.imaging.decode",
    # Data
    "load_mnist": "hdr.training.data",
    "load_csv": "hdr.training.data",
    "load_image_folder": "hdr.training.data",
    "Mnist": "hdr.training.data",
    "DataError": "hdr.training.data",
    "load_handwriting": "hdr.training.handwriting",
    "HandwritingSet": "hdr.training.handwriting",
    # Configs and training
    "ModelConfig": "hdr.config",
    "TrainConfig": "hdr.config",
    "PRESETS": "hdr.config",
    "preset_config": "hdr.config",
    "build_model": "hdr.training.models",
    "train_model": "hdr.training.train",
    "TrainResult": "hdr.training.train",
    "Progress": "hdr.training.train",
    # Evaluation, export and explanation
    "evaluate_model": "hdr.inference.evaluate",
    "Classifier": "hdr.inference.evaluate",
    "Metrics": "hdr.inference.evaluate",
    "fit_temperature": "hdr.inference.calibrate",
    "expected_calibration_error": "hdr.inference.calibrate",
    "export_tflite": "hdr.inference.export",
    "TFLiteModel": "hdr.inference.export",
    "ExportError": "hdr.inference.export",
    "Explainer": "hdr.inference.explain",
    # Saved models
    "ModelCard": "hdr.storage.store",
    "ModelStoreError": "hdr.storage.store",
    "save_model": "hdr.storage.store",
    "list_models": "hdr.storage.store",
    "active_model": "hdr.storage.store",
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
