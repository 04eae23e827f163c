"""Quality models at run time: the MiniLM embedder, the router and reward heads, relevance.

Only ``tokenizers``, ``numpy`` and ONNX Runtime are needed here; torch is a build-time tool.
"""

from winnow.scoring.exceptions import ModelsNotBuiltError, ScoringError
from winnow.scoring.scorer import TRUNCATED_FLAG, QualityScorer

__all__ = ["TRUNCATED_FLAG", "ModelsNotBuiltError", "QualityScorer", "ScoringError"]
