"""Building and training Winnow's quality models (``winnow models build|train``).

Everything here runs at build time: torch, transformers and onnx are imported inside the
functions that need them (the ``build`` extra), never by the runtime scorer.
"""
