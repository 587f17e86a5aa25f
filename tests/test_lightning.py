"""A real PyTorch Lightning run: lrpulse's torch scheduler drives the optimizer inside ``Trainer``,
Lightning's own ``CSVLogger`` and ``LearningRateMonitor`` write ``metrics.csv``, and lrpulse reads the
file back (compared with the csv module), finds the LR Lightning logged equal to the schedule, and
diagnoses the run."""

from __future__ import annotations

import csv
import warnings

import numpy as np
import pytest

import lrpulse
import lrpulse.torch

lightning = pytest.importorskip("lightning")  # installed by tests/requirements.txt; CI fails on skips
torch = pytest.importorskip("torch")

STEPS_PER_EPOCH, EPOCHS = 16, 6


class Regression(lightning.LightningModule):
    def __init__(self, schedule: lrpulse.Schedule) -> None:
        super().__init__()
        self.schedule = schedule
        self.layer = torch.nn.Linear(4, 1)

    def training_step(self, batch, _index):
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, _index):
        x, y = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.layer(x), y))

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=self.schedule(0))
        sched = lrpulse.torch.LRScheduler(opt, self.schedule)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


@pytest.fixture(scope="module")
def lightning_run(tmp_path_factory):
    """Train for a few epochs on CPU; returns the run folder and the schedule used."""
    from lightning.pytorch.callbacks import LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger

    torch.manual_seed(0)
    x = torch.randn(STEPS_PER_EPOCH * 8, 4)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.05 * torch.randn(len(x), 1)
    data = torch.utils.data.TensorDataset(x, y)
    train = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)
    val = torch.utils.data.DataLoader(data, batch_size=64)
    total = STEPS_PER_EPOCH * EPOCHS
    schedule = lrpulse.warmup(lrpulse.cosine(lr=0.05, decay_steps=total - 10), warmup_steps=10)
    folder = tmp_path_factory.mktemp("lightning")
    trainer = lightning.Trainer(
        max_epochs=EPOCHS,
        accelerator="cpu",
        logger=CSVLogger(str(folder), name="run"),
        callbacks=[LearningRateMonitor(logging_interval="step")],
        log_every_n_steps=1,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on worker counts and the like
        trainer.fit(Regression(schedule), train, val)
    (metrics,) = folder.glob("run/version_*/metrics.csv")
    return metrics, schedule


def test_lightning_metrics_csv_reads_as_the_csv_module_reads_it(lightning_run):
    path, _ = lightning_run
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    ours = lrpulse.read_scalars(path)
    expected_tags = [c for c in rows[0] if c != "step"]
    assert sorted(ours) == sorted(expected_tags)
    assert {"train_loss_step", "train_loss_epoch", "val_loss", "lr-SGD", "epoch"} <= set(ours)
    for tag in expected_tags:
        cells = [(int(r["step"]), float(r[tag])) for r in rows if r[tag] != ""]
        np.testing.assert_array_equal(ours[tag][0], [s for s, _ in cells])
        np.testing.assert_array_equal(ours[tag][1], [v for _, v in cells])
    assert len(ours["val_loss"][0]) == EPOCHS  # sparse rows: one validation point per epoch


def test_the_lr_lightning_logged_is_the_schedule(lightning_run):
    path, schedule = lightning_run
    steps, lrs = lrpulse.read_scalars(path, "lr-SGD")["lr-SGD"]
    assert len(steps) == STEPS_PER_EPOCH * EPOCHS
    # LearningRateMonitor logs before each optimizer step, under the step count so far.
    np.testing.assert_allclose(lrs, schedule(steps), rtol=1e-15, atol=0)
    assert lrs.max() == pytest.approx(0.05) and lrs[0] < lrs.max()


def test_lightning_run_is_diagnosed_from_its_folder(lightning_run):
    path, schedule = lightning_run
    (run,) = lrpulse.scan(path.parent.parent)
    assert run.name == "version_0/metrics.csv"
    diagnosis = run.diagnosis
    assert diagnosis.label == "healthy", diagnosis  # a linear fit under warmup + cosine converges
    # The curve diagnosed is train_loss_step (one point per step) under the lr-SGD column.
    assert diagnosis.evidence["points"] == STEPS_PER_EPOCH * EPOCHS
    # The LR in the last tenth of the run, over its peak: between the schedule's values there.
    total = STEPS_PER_EPOCH * EPOCHS
    assert schedule(total - 1) / 0.05 <= diagnosis.evidence["lr_end_over_max"] <= schedule(0.9 * total - 1) / 0.05
    assert lrpulse.diagnose_file(path).label == diagnosis.label
