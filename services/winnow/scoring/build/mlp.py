"""A tiny numpy MLP (one ReLU hidden layer, or none) trained with Adam.

Two objectives: softmax cross-entropy (the router) and a pairwise Bradley-Terry loss, where the
model scores each side of a pair and learns ``score(chosen) > score(rejected)`` (the reward head).
Small enough to train on two CPU cores in seconds; exported to ONNX by ``onnx_heads``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

F = npt.NDArray[np.float32]


@dataclass
class MLP:
    """Weights of ``x -> relu(x W1 + b1) W2 + b2`` (or ``x W2 + b2`` without a hidden layer)."""

    w1: F | None
    b1: F | None
    w2: F
    b2: F

    @classmethod
    def init(cls, dim: int, hidden: int, out: int, seed: int) -> MLP:
        """He-initialised weights; ``hidden=0`` gives a linear model."""
        rng = np.random.default_rng(seed)
        if hidden:
            w1 = (rng.standard_normal((dim, hidden)) * np.sqrt(2.0 / dim)).astype(np.float32)
            w2 = (rng.standard_normal((hidden, out)) * np.sqrt(1.0 / hidden)).astype(np.float32)
            return cls(w1, np.zeros(hidden, np.float32), w2, np.zeros(out, np.float32))
        w2 = (rng.standard_normal((dim, out)) * 0.01).astype(np.float32)
        return cls(None, None, w2, np.zeros(out, np.float32))

    def params(self) -> list[F]:
        """Trainable arrays, in a fixed order."""
        return [p for p in (self.w1, self.b1, self.w2, self.b2) if p is not None]

    def forward(self, x: F) -> tuple[F, F]:
        """``(output, hidden activations)``; hidden is ``x`` itself for a linear model."""
        if self.w1 is None or self.b1 is None:
            return x @ self.w2 + self.b2, x
        h = np.maximum(x @ self.w1 + self.b1, 0.0)
        return h @ self.w2 + self.b2, h

    def backward(self, x: F, h: F, d_out: F) -> list[F]:
        """Gradients of the parameters given the loss gradient at the output."""
        grads: list[F] = []
        if self.w1 is not None:
            d_h = (d_out @ self.w2.T) * (h > 0)
            grads += [x.T @ d_h, d_h.sum(axis=0)]
        return [*grads, h.T @ d_out, d_out.sum(axis=0)]


@dataclass
class Adam:
    """Adam with decoupled weight decay on matrices."""

    lr: float = 3e-3
    weight_decay: float = 1e-4
    beta1: float = 0.9
    beta2: float = 0.999
    step_count: int = 0
    m: list[F] = field(default_factory=list)
    v: list[F] = field(default_factory=list)

    def step(self, params: list[F], grads: list[F]) -> None:
        """Update ``params`` in place."""
        if not self.m:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.step_count += 1
        t = self.step_count
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            m_hat = m / (1 - self.beta1**t)
            v_hat = v / (1 - self.beta2**t)
            if p.ndim == 2:
                p -= self.lr * self.weight_decay * p
            p -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


def softmax(z: F) -> F:
    """Row-wise softmax, numerically stable."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)


def train_classifier(
    x: F,
    y: npt.NDArray[np.int64],
    classes: int,
    *,
    hidden: int = 256,
    epochs: int = 40,
    batch: int = 256,
    lr: float = 3e-3,
    weight_decay: float = 1e-4,
    class_weight: F | None = None,
    seed: int = 0,
) -> MLP:
    """Softmax classifier by mini-batch Adam."""
    rng = np.random.default_rng(seed)
    model = MLP.init(x.shape[1], hidden, classes, seed)
    opt = Adam(lr=lr, weight_decay=weight_decay)
    weights = np.ones(classes, np.float32) if class_weight is None else class_weight
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start : start + batch]
            xb, yb = x[idx], y[idx]
            out, h = model.forward(xb)
            p = softmax(out)
            w = weights[yb][:, None]
            d_out = p.copy()
            d_out[np.arange(len(idx)), yb] -= 1.0
            d_out = (d_out * w / w.sum()).astype(np.float32)
            opt.step(model.params(), model.backward(xb, h, d_out))
    return model


def train_pairwise(
    x_chosen: F,
    x_rejected: F,
    *,
    sample_weight: F | None = None,
    hidden: int = 128,
    epochs: int = 30,
    batch: int = 256,
    lr: float = 1e-3,
    weight_decay: float = 1e-3,
    seed: int = 0,
) -> MLP:
    """Bradley-Terry scorer: maximise ``log sigmoid(s(chosen) - s(rejected))``, weighted."""
    rng = np.random.default_rng(seed)
    model = MLP.init(x_chosen.shape[1], hidden, 1, seed)
    opt = Adam(lr=lr, weight_decay=weight_decay)
    weights = np.ones(len(x_chosen), np.float32) if sample_weight is None else sample_weight
    for _ in range(epochs):
        order = rng.permutation(len(x_chosen))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            out_c, h_c = model.forward(x_chosen[idx])
            out_r, h_r = model.forward(x_rejected[idx])
            margin = (out_c - out_r)[:, 0]
            w = weights[idx]
            # d/dm of -log sigmoid(m) is -sigmoid(-m).
            d_m = (-(1.0 / (1.0 + np.exp(margin))) * w / w.sum()).astype(np.float32)[:, None]
            g_c = model.backward(x_chosen[idx], h_c, d_m)
            g_r = model.backward(x_rejected[idx], h_r, -d_m)
            opt.step(model.params(), [a + b for a, b in zip(g_c, g_r, strict=True)])
    return model
