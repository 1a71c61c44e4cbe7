"""trtgen: turn PyTorch models into readable TensorRT network-builder code."""

__version__ = "0.1.0"
