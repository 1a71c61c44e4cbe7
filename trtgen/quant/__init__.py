"""Quantization: Q/DQ placement, calibration data, calibrators and scales."""
