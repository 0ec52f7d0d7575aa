"""Neural networks on simulated PCM hardware: datasets, the software baseline, dense
layers on AnalogTiles, the training loop, inference with drift (docs/training.md).

    from codesign.nn import TrainConfig, train
    result = train(TrainConfig(net="mlp-2018", dataset="mnist5k", cell="2pcm3t1c"))
    result.test_accuracy[-1]
"""
from .datasets import Dataset, load_dataset
from .train import TrainConfig, TrainResult, train

__all__ = ["Dataset", "TrainConfig", "TrainResult", "load_dataset", "train"]
