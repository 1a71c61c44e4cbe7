"""Emit: the plan rendered as network.py / network.cpp, the weights, and OUT written at once."""
