"""The trtgen route: generate OUT (network.py + weights) from the loaded model, then build the
network from OUT/network.py the way `trtgen build` does."""

import os
import shutil

from ...emit.netfile import build_with_profiles
from ...emit.output import write_output
from ..generate import generate_loaded
from .quiet import quiet
from .result import RouteResult


class TrtgenRoute:
    name = "trtgen"
    title = "trtgen"
    stages = ("generation", "network build")  # what failed, in a route's error

    def __init__(self, loaded, input_shapes, work):
        self.loaded = loaded
        self.input_shapes = input_shapes
        self.work = work
        self.out = None
        self.result = RouteResult(
            convert="generation: capture, plan, render, weights, write OUT",
            network="import OUT/network.py and build the network",
        )

    def discard(self):
        """Delete the last OUT (the driver calls this, untimed, before the next conversion)."""
        if self.out:
            shutil.rmtree(self.out, ignore_errors=True)
            self.out = None

    def convert(self, run):
        """One generation into a fresh OUT (the driver times this call)."""
        self.out = os.path.join(self.work, f"trtgen-{run}")
        with quiet():
            generated = generate_loaded(self.loaded, self.input_shapes, out_dir=self.out)
            write_output(self.out, generated)
        self.result.details["capture"] = list(generated.manifest.get("capture", []))

    def network(self):
        """``(builder, network, profiles, keep-alive)`` from the last OUT."""
        with quiet():
            builder, network, profiles = build_with_profiles(self.out)
        return builder, network, profiles, None
