"""What a training job reports while it runs and once it ends: its states and a status snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field

from hdr.storage.store import ModelCard

PENDING, RUNNING, FINISHED, STOPPED, FAILED = "pending", "running", "finished", "stopped", "failed"
# Batches after the first (which traces the graph) before a time-left estimate is shown ("143251 s left" otherwise).
ETA_MIN_BATCHES = 20


@dataclass(frozen=True)
class JobStatus:
    """A consistent snapshot of a job, safe to read from any thread."""

    state: str  # pending, running, finished, stopped or failed
    epoch: int
    epochs: int
    batch: int
    batches: int
    elapsed: float  # seconds since the job started
    seconds_left: float | None  # estimate from the pace so far; None until ETA_MIN_BATCHES batches say what it is
    history: dict[str, list[float]]  # per-epoch loss, accuracy, val_loss, val_accuracy
    batch_logs: dict[str, list[float]]  # per-batch loss and accuracy, for a live curve inside an epoch
    message: str  # what is happening, or why it failed
    card: ModelCard | None = None  # the saved model's card once saved (finished, or stopped after an epoch)
    comparison: dict = field(default_factory=dict)  # fine-tuning: accuracy before/after on MNIST test and feedback

    @property
    def done(self) -> bool:
        """True once the job has ended, however it ended."""
        return self.state in (FINISHED, STOPPED, FAILED)

    @property
    def fraction(self) -> float:
        """Share of all planned batches done, in [0, 1]."""
        total = self.epochs * self.batches
        if self.state == FINISHED:
            return 1.0
        return 0.0 if total == 0 else min(1.0, ((self.epoch - 1) * self.batches + self.batch) / total)
