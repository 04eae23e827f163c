"""Write trained heads as small ONNX graphs, with their metadata inside the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from winnow.scoring.build.export import require
from winnow.scoring.build.mlp import MLP

F = npt.NDArray[np.float32]
HEAD_OPSET = 17


def reward_features(prompt: F, response: F) -> F:
    """The reward head's input: the response and its element-wise product with the prompt.

    Mirrored node for node by :func:`write_reward`; the product's sum is the relevance cosine.
    """
    return np.concatenate([response, prompt * response], axis=1).astype(np.float32)


def _mlp_nodes(onnx: Any, mlp: MLP, src: str, out: str) -> tuple[list[Any], list[Any]]:
    helper, numpy_helper = onnx.helper, onnx.numpy_helper
    nodes: list[Any] = []
    inits: list[Any] = []
    cur = src
    if mlp.w1 is not None and mlp.b1 is not None:
        inits += [numpy_helper.from_array(mlp.w1, "w1"), numpy_helper.from_array(mlp.b1, "b1")]
        nodes += [
            helper.make_node("MatMul", [cur, "w1"], ["h_mm"]),
            helper.make_node("Add", ["h_mm", "b1"], ["h_pre"]),
            helper.make_node("Relu", ["h_pre"], ["h"]),
        ]
        cur = "h"
    inits += [numpy_helper.from_array(mlp.w2, "w2"), numpy_helper.from_array(mlp.b2, "b2")]
    nodes += [
        helper.make_node("MatMul", [cur, "w2"], ["o_mm"]),
        helper.make_node("Add", ["o_mm", "b2"], [out]),
    ]
    return nodes, inits


def _save(onnx: Any, graph: Any, meta: dict[str, str], dest: Path) -> None:
    model = onnx.helper.make_model(
        graph, opset_imports=[onnx.helper.make_opsetid("", HEAD_OPSET)], producer_name="winnow"
    )
    # ORT 1.31 reads IR version 10 and below; pin it so newer onnx releases stay loadable.
    model.ir_version = 9
    onnx.helper.set_model_props(model, meta)
    onnx.checker.check_model(model)
    dest.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(dest))


def write_router(mlp: MLP, dim: int, meta: dict[str, str], dest: Path) -> None:
    """``embedding [N, dim] -> probabilities [N, classes]``."""
    onnx = require("onnx")
    helper, tp = onnx.helper, onnx.TensorProto
    nodes, inits = _mlp_nodes(onnx, mlp, "embedding", "logits")
    nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], axis=-1))
    graph = helper.make_graph(
        nodes,
        "router",
        [helper.make_tensor_value_info("embedding", tp.FLOAT, ["batch", dim])],
        [helper.make_tensor_value_info("probabilities", tp.FLOAT, ["batch", mlp.b2.shape[0]])],
        inits,
    )
    _save(onnx, graph, meta, dest)


def write_reward(mlp: MLP, dim: int, meta: dict[str, str], dest: Path) -> None:
    """``prompt [N, dim], response [N, dim] -> reward [N]`` (a probability) and ``logit [N]``."""
    onnx = require("onnx")
    helper, tp, numpy_helper = onnx.helper, onnx.TensorProto, onnx.numpy_helper
    nodes = [
        helper.make_node("Mul", ["prompt", "response"], ["pr"]),
        helper.make_node("Concat", ["response", "pr"], ["features"], axis=1),
    ]
    mlp_nodes, inits = _mlp_nodes(onnx, mlp, "features", "logit2d")
    inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), "flat"))
    nodes += [
        *mlp_nodes,
        helper.make_node("Reshape", ["logit2d", "flat"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["reward"]),
    ]
    graph = helper.make_graph(
        nodes,
        "reward",
        [
            helper.make_tensor_value_info("prompt", tp.FLOAT, ["batch", dim]),
            helper.make_tensor_value_info("response", tp.FLOAT, ["batch", dim]),
        ],
        [
            helper.make_tensor_value_info("reward", tp.FLOAT, ["batch"]),
            helper.make_tensor_value_info("logit", tp.FLOAT, ["batch"]),
        ],
        inits,
    )
    _save(onnx, graph, meta, dest)
