"""Capture: load MODEL.py, run it, and record one torch.fx graph per module instance."""
