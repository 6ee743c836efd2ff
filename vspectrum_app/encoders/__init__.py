"""The CLIP encoder runtime: weights, the torch, ONNX and OpenVINO embedders, their export and
build, the backend choice, tokenizer, preprocessing and device. Knows nothing of workspaces:
library/ (catalog, import, index, search) uses it."""
