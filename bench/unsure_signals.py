"""Which signal makes the best "unsure" line: the calibrated confidence against the alternatives.

Each signal is scored on the validation split of MNIST and of each real source (as ``python -m
hdr calibrate`` fits the line) with the same budget: its threshold is the highest that flags at
most ``--budget`` of any source's correct reads. A row gives, per source, the share of misreads
flagged and the share of correct reads flagged. Signals:

- confidence: the top probability after temperature scaling (what the app uses);
- margin: the top probability minus the second;
- weakest member: for an ensemble, the lowest probability any member gives the predicted digit;
- members disagree: an ensemble member's top digit differs from the ensemble's (no threshold);
- digit gate: how much the picture looks like a digit at all to the digit gate
  (docs/non-digits.md), for a shape no reader would call its label.

Usage::

    python -m bench.unsure_signals --handwriting-dir ../shared/handwriting
"""

from __future__ import annotations

import argparse

import numpy as np


def _flag_below(scores: dict[str, tuple[np.ndarray, np.ndarray]], budget: float) -> dict[str, np.ndarray]:
    """Flags ``score < t`` with the highest ``t`` that flags at most ``budget`` of each source's correct reads.

    Args:
        scores: ``{source: (score (N,), correct bool (N,))}``.
    """
    t = min(float(np.quantile(s[ok], budget, method="lower")) for s, ok in scores.values() if ok.any())
    return {name: s < t for name, (s, _) in scores.items()}


def main() -> None:
    import keras

    from hdr.inference.calibrate import apply_temperature, fit_temperature
    from hdr.inference.reject import Gate
    from hdr.storage.store import load_keras_model, resolve_model_path
    from hdr.training.data import load_mnist
    from hdr.training.handwriting import load_handwriting
    from hdr.training.train import TrainConfig
    from hdr.training.training_data import make_training_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model name or .keras path (default: the active model)")
    parser.add_argument("--data-dir", default=None, help="MNIST folder (default: $HDR_DATA_DIR, else download)")
    parser.add_argument("--handwriting-dir", default=None, help="USPS/ARDIS folder (default: $HDR_HANDWRITING_DIR)")
    parser.add_argument("--budget", type=float, default=0.025, help="share of correct reads a line may flag")
    args = parser.parse_args()

    model = load_keras_model(resolve_model_path(args.model))
    members = [layer for layer in model.layers if isinstance(layer, keras.Model)] or [model]
    config = TrainConfig()
    real = load_handwriting(args.handwriting_dir, val_fraction=config.val_fraction, seed=config.split_seed)
    sets = make_training_data(load_mnist(args.data_dir), config, real=real).val_by_source
    gate = Gate.load()
    each, gate_scores = {}, {}
    for name, (x, y) in sets.items():
        inputs = x.astype(np.float32)[..., None] / 255.0
        each[name] = (np.stack([np.asarray(m.predict(inputs, batch_size=512, verbose=0)) for m in members]), y)
        gate_scores[name] = gate.scores(inputs) if gate is not None else np.ones(len(y), np.float32)
    temperature = fit_temperature(
        np.concatenate([p.mean(0) for p, _ in each.values()]), np.concatenate([y for _, y in each.values()])
    )
    signals: dict[str, dict[str, np.ndarray]] = {}
    scores = {"confidence": {}, "margin": {}, "weakest member": {}, "digit gate": {}}
    for name, (probs, y) in each.items():
        mean = apply_temperature(probs.mean(0), temperature)
        digit, ok = mean.argmax(1), mean.argmax(1) == y
        top2 = np.sort(mean, axis=1)[:, -2:]
        scores["confidence"][name] = (top2[:, 1], ok)
        scores["margin"][name] = (top2[:, 1] - top2[:, 0], ok)
        scores["weakest member"][name] = (probs[:, np.arange(len(y)), digit].min(0), ok)
        scores["digit gate"][name] = (gate_scores[name], ok)
        signals.setdefault("members disagree", {})[name] = (probs.argmax(2) != digit[None]).any(0)
    for signal, by_source in scores.items():
        signals[signal] = _flag_below(by_source, args.budget)

    print(f"{len(members)} member(s), temperature {temperature:.3f}, budget {args.budget:.1%} of correct reads\n")
    print("| signal | " + " | ".join(f"{name}: misreads / correct flagged" for name in each) + " |")
    print("|---|" + "---|" * len(each))
    for signal, flagged in signals.items():
        cells = []
        for name, (probs, y) in each.items():
            wrong = probs.mean(0).argmax(1) != y
            cells.append(f"{flagged[name][wrong].mean():.0%} of {wrong.sum()} / {flagged[name][~wrong].mean():.1%}")
        print(f"| {signal} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
