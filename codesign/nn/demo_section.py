"""The short training run of `codesign demo` (a report section, see codesign.demo).

A small perceptron (64-16-10, tanh) on scikit-learn's 8x8 digits for two epochs, in
software, on PCM pairs alone and on 2PCM+3T1C cells of the demo's spec. Digits are 1,438
training images, so the transfer interval is shortened to 400 images to show a few
transfers (the spec's 8,000 would never be reached); the full-size reproduction is
`python -m codesign.nn.reproduce` (docs/reproduction.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plotting import pyplot, save
from .train import TrainConfig, train

DEMO = dict(net="64-16-10", dataset="digits", epochs=2, lr=0.05, hidden="tanh",
            transfer_interval=400)
CELLS = ("software", "pcm-pair", "2pcm3t1c")


def section_training(spec, out: Path, seed: int) -> dict:
    results = {c: train(TrainConfig(**DEMO, spec=spec, cell=c, seed=seed), progress=False)
               for c in CELLS}
    rows = []
    for cell, r in results.items():
        ev = r.summary()["events"]
        rows.append([cell, f"{100 * r.test_accuracy[-1]:.2f}", ev["update_pulses"],
                     ev["set_pulses"], ev["reset_pulses"], f"{r.images / r.seconds:.0f}"])
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3))
    for cell, r in results.items():
        ax.plot(np.arange(1, len(r.test_accuracy) + 1), 100 * np.asarray(r.test_accuracy),
                "o-", label=cell)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy [%]")
    ax.set_title("64-16-10 on 8x8 digits")
    ax.legend()
    png = save(fig, Path(out) / "training.png")
    acc = {c: r.test_accuracy[-1] for c, r in results.items()}
    summary = (f"Two epochs of SGD (batch 1) on 8x8 digits: software "
               f"{100 * acc['software']:.1f} %, PCM pair alone {100 * acc['pcm-pair']:.1f} %, "
               f"2PCM+3T1C {100 * acc['2pcm3t1c']:.1f} % (transfer every "
               f"{DEMO['transfer_interval']} images). The 2018 reproduction on MNIST: "
               "python -m codesign.nn.reproduce.")
    return {"id": "training", "title": "Training on PCM tiles", "summary": summary,
            "tables": [{"title": "Training", "headers": ["cell", "test acc [%]",
                                                         "update pulses", "SET pulses",
                                                         "RESET pulses", "images/s"],
                        "rows": rows}],
            "images": [str(png)], "data": {"settings": DEMO, "test_accuracy": acc}}
