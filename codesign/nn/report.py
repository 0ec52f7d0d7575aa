"""What `codesign train` and `codesign infer` print and plot, as plain dicts.

Energy: the event counts of all tiles (training and the per-epoch evaluations) priced by
codesign.estimate's component library (energy = sum of events x per-event energy +
controller cycles x energy per cycle + UPDATE commands x pulse-line energy).
"""
from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..events import Events
from ..plotting import integer_ticks, pyplot, save
from .build import is_perceptron, streams
from .infer import drift_accuracy, time_label
from .store import load_weights
from .train import TrainConfig, TrainResult, prepare_data, train


def estimated_energy(result: TrainResult) -> dict | None:
    """Joules by component for the whole run, None for the software baseline."""
    layers = [l for l in result.model.layers if hasattr(l, "tiles")]
    if not layers:
        return None
    from ..estimate import load_components, tile_costs
    costs = tile_costs(result.spec, load_components())
    events = Events.total(result.events_by_op().values())
    cycles = sum(result.cycles_by_op().values())
    out = costs.energy(events, cycles)
    commands = sum(l.update_commands for l in layers)
    out["update_lines"] = out.get("update_lines", 0.0) + commands * costs.update_line_energy
    return out


def train_summary(result: TrainResult) -> dict:
    s = result.summary()
    parts = estimated_energy(result)
    s["energy_by_component_j"] = parts
    s["energy_j"] = float(sum(parts.values())) if parts is not None else None
    s["images_trained"] = result.images
    return s


def plot_training(summary: dict, path: str) -> None:
    plt = pyplot()
    epochs = np.arange(1, len(summary["test_accuracy_per_epoch"]) + 1)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(epochs, 100 * np.asarray(summary["train_accuracy_per_epoch"]), "o-", label="train")
    ax.plot(epochs, 100 * np.asarray(summary["test_accuracy_per_epoch"]), "s-", label="test")
    ax.set_xlabel("epoch")
    integer_ticks(ax.xaxis)
    ax.set_ylabel("accuracy (%)")
    ax.set_title(f"{summary['net']} on {summary['dataset']}, cell {summary['cell']}, "
                 f"seed {summary['seed']}", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend()
    save(fig, path)


def infer_run(config: TrainConfig, times, weights_path: str | None = None,
              progress: bool = True) -> dict:
    """Train (or load saved weights), then accuracy over time after programming."""
    from ..mapping.partition import partition
    if weights_path:
        weights, meta = load_weights(weights_path)
        config = TrainConfig(**{**config.__dict__, "net": meta["net"]})
        spec, net, layout, data = prepare_data(config)
        hidden = list(meta["hidden"])
        shapes = [(a + 1, b) for a, b in zip(layout.sizes[:-1], layout.sizes[1:])] \
            if is_perceptron(net) else [net[n].matrix_shape for n in layout.names]
        if [w.shape for w in weights] != shapes:
            raise UserError(f"weights {weights_path}: layer shapes "
                            f"{[w.shape for w in weights]} do not match net {config.net} "
                            f"{shapes}", field="weights")
        source = weights_path
    else:
        spec, net, layout, _ = prepare_data(config)
        result = train(config, progress)
        data, model = result.dataset, result.model
        weights, hidden = [l.weights() for l in model.layers], list(model.hidden)
        source = f"training ({config.cell}, {config.epochs} epochs, seed {config.seed})"
    if is_perceptron(net):
        parts = partition(net, spec)
        edges = [(parts[n].row_edges, parts[n].col_edges) for n in layout.names]
        out = drift_accuracy(weights, hidden, spec, edges, data.x_test, data.y_test, times,
                             streams(config.seed).inference)
    else:   # any other network: codesign.nn.graph on the same partition
        from .onnx_run import drift_accuracy_graph
        out = drift_accuracy_graph(net, dict(zip(layout.names, weights)), {}, spec,
                                   data.x_test, data.y_test, times,
                                   streams(config.seed).inference)
    out.update(net=config.net, dataset=data.name, spec=spec.name,
               noise_model=spec.pcm.noise_model, weights_from=source,
               time_labels=[time_label(t) for t in times],
               test_accuracy=out["accuracy"][-1],
               test_accuracy_compensated=out["accuracy_compensated"][-1])
    return out


def plot_drift(out: dict, path: str) -> None:
    plt = pyplot()
    t = np.maximum(np.asarray(out["times"], dtype=float), 1e-3)
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(t, 100 * np.asarray(out["accuracy"]), "o-", label="no compensation")
    ax.semilogx(t, 100 * np.asarray(out["accuracy_compensated"]), "s-",
                label="global drift compensation")
    ax.axhline(100 * out["accuracy_digital"], color="gray", ls="--", label="digital weights")
    ax.set_xlabel("time after programming (s)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"{out['net']} on {out['dataset']}, {out['noise_model']}", fontsize=9)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    save(fig, path)
