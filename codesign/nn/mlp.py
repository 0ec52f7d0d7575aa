"""The multilayer perceptron shared by the software baseline and the analog network.

Everything that is the same for both lives here: layer sizes, initialization, the
activations, softmax and cross-entropy (in the digital periphery on hardware), and one
SGD step. Only the dense layers differ: :class:`SoftwareDense` holds float weights,
``codesign.nn.analog.AnalogDense`` holds them on tiles. Both store the bias as one more
weight row driven by a constant input of 1, as the 2018 perceptron counts its bias
synapses in the array (528-250-125-10 with biases = 164,885 synapses,
../shared/reference/devices.md).

Hidden activations come from the network description (the zoo's perceptrons have tanh
units, codesign.network.zoo.HIDDEN_ACT, the default here too); sigmoid and tanh are
bounded, so their outputs are valid DAC inputs
without scaling. Choices marked "assumed" (the paper does not give them in our reference
notes): initialization uniform in +-1/sqrt(fan_in + 1), constant learning rate.
"""
from __future__ import annotations

import numpy as np
from scipy.linalg import blas

from .. import libm
from ..errors import UserError
from ..network.zoo import HIDDEN_ACT

INIT = "uniform +-1/sqrt(fan_in + 1)"   # assumed (LeCun-style, bias row included)


def init_weights(n_in: int, n_out: int, rng: np.random.Generator) -> np.ndarray:
    """Real-valued initial weights, bias row last: shape (n_in + 1, n_out)."""
    bound = 1.0 / np.sqrt(n_in + 1)
    return rng.uniform(-bound, bound, size=(n_in + 1, n_out))


def init_bound(n_in: int) -> float:
    return float(1.0 / np.sqrt(n_in + 1))


def with_bias(x: np.ndarray) -> np.ndarray:
    """x with a last column of ones (the bias input), float64."""
    out = np.empty((x.shape[0], x.shape[1] + 1))
    out[:, :-1] = x
    out[:, -1] = 1.0
    return out


def softmax(z: np.ndarray) -> np.ndarray:
    e = libm.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# activation: (function, derivative expressed through the activation's output a)
ACTIVATIONS = {
    "sigmoid": (lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)), lambda a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda a: 1.0 - a * a),
    "relu": (lambda z: np.maximum(z, 0.0), lambda a: (a > 0).astype(np.float64)),
    "identity": (lambda z: z, lambda a: np.ones_like(a)),
}


class SoftwareDense:
    """Float layer: the software baseline. Same interface as AnalogDense."""

    kind = "software"

    def __init__(self, w0: np.ndarray, bias: bool = True):
        """w0: initial real weights (n_in + 1, n_out), bias row last (init_weights);
        (n_in, n_out) with bias=False."""
        self.bias = bool(bias)
        self.n_in, self.n_out = w0.shape[0] - int(self.bias), w0.shape[1]
        self.set_weights(w0)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.bias:
            return x @ self.w
        return x @ self.w[:-1] + self.w[-1]

    def backward(self, d: np.ndarray) -> np.ndarray:
        return d @ self.w[:self.n_in].T

    def update(self, x: np.ndarray, d: np.ndarray, lr: float) -> None:
        """w -= lr * mean over the batch of the outer products x^T d."""
        xb = with_bias(x) if self.bias else x
        if x.shape[0] == 1:
            blas.dger(-lr, xb[0], d[0], a=self.w, overwrite_a=True)
        else:
            blas.dgemm(-lr / x.shape[0], xb, d, beta=1.0, c=self.w, trans_a=True,
                       overwrite_c=True)

    def weights(self) -> np.ndarray:
        return self.w.copy()

    def set_weights(self, w: np.ndarray) -> None:
        # Fortran order so that BLAS updates the weights in place (dger/dgemm above):
        # numpy's x.T @ d allocates a fresh matrix per image, several times slower.
        self.w = np.array(w, dtype=np.float64, order="F")

    def end_of_images(self, n: int) -> None:
        """Called after every training step with the number of images it used."""


class MLP:
    """Dense layers, hidden activations (``hidden``: one name of ACTIVATIONS per hidden
    layer), softmax output and cross-entropy loss."""

    def __init__(self, layers: list, hidden: list[str] | None = None):
        if not layers:
            raise UserError("network: no layers; allowed: at least one dense layer")
        hidden = list(hidden) if hidden is not None else [HIDDEN_ACT] * (len(layers) - 1)
        if len(hidden) != len(layers) - 1 or any(h not in ACTIVATIONS for h in hidden):
            raise UserError(f"network: hidden activations {hidden}; allowed: "
                            f"{len(layers) - 1} of " + ", ".join(ACTIVATIONS))
        self.layers = layers
        self.hidden = hidden
        self._f = [ACTIVATIONS[h][0] for h in hidden]
        self._df = [ACTIVATIONS[h][1] for h in hidden]

    @property
    def sizes(self) -> list[int]:
        return [self.layers[0].n_in] + [l.n_out for l in self.layers]

    def forward(self, x: np.ndarray, training: bool = False) -> list[np.ndarray]:
        """Activations of every layer, input first; the last entry is the logits. With
        ``training``, a layer's ``forward_train`` runs where it has one (hardware-aware
        training, codesign.nn.hwaware)."""
        acts = [x]
        for i, layer in enumerate(self.layers):
            fwd = getattr(layer, "forward_train", layer.forward) if training else layer.forward
            z = fwd(acts[-1])
            acts.append(z if i == len(self.layers) - 1 else self._f[i](z))
        return acts

    def predict(self, x: np.ndarray, batch: int = 1000) -> np.ndarray:
        out = [self.forward(x[i:i + batch])[-1].argmax(axis=1)
               for i in range(0, len(x), batch)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)

    def accuracy(self, x: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(x) == y)) if len(y) else float("nan")

    def train_step(self, x: np.ndarray, y: np.ndarray, lr: float) -> float:
        """One SGD step on a batch (batch 1 is how the hardware trains). Returns the mean
        cross-entropy of the batch before the update."""
        acts = self.forward(x, training=True)
        p = softmax(acts[-1])
        n = len(y)
        loss = float(-libm.log(np.maximum(p[np.arange(n), y], 1e-12)).mean())
        d = p
        d[np.arange(n), y] -= 1.0                       # dL/dlogits of softmax + CE
        deltas = [d]
        for i in range(len(self.layers) - 1, 0, -1):    # back through hidden layers
            back = self.layers[i].backward(deltas[0])
            deltas.insert(0, back * self._df[i - 1](acts[i]))
        for layer, a, dl in zip(self.layers, acts[:-1], deltas):
            layer.update(a, dl, lr)
            layer.end_of_images(n)
        return loss
