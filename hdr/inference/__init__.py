"""Reading with a trained model: prediction, numbers, explanations, calibration, evaluation and export."""
