"""Engine build settings (layers.build_options): real builds where the CPU-only TensorRT-RTX can
build, builder-config checks where a build needs a GPU (refit and weight-stripped plans are
compiled by TensorRT-RTX's JIT, which needs CUDA), clear errors for settings the package lacks."""

import argparse

import pytest

import layers as nn
from layers.backend import IS_RTX, trt
from layers.build_options import BuildOptions, add_arguments, configure, from_args


def small_network():
    builder, network = nn.create_network()
    with nn.net_guard(network):
        x = nn.add_input("x", nn.float32, (1, 3, 8, 8))
        nn.mark_output(nn.functional.relu(nn.functional.max_pool2d(x, 2)), "y")
    return builder, network


def test_command_line_options_map_to_build_options():
    args = add_arguments(argparse.ArgumentParser()).parse_args(
        ["--workspace", "64", "--opt-level", "1", "--compute-capability", "sm86", "--refittable"]
    )
    assert from_args(args) == BuildOptions(
        workspace_mib=64, optimization_level=1, compute_capabilities=("sm86",), refittable=True
    )


def test_workspace_and_optimization_level_build_an_engine():
    builder, network = small_network()
    engine = nn.build_engine(
        builder, network, options=BuildOptions(workspace_mib=64, optimization_level=0)
    )
    assert len(engine) > 0


def test_timing_cache_is_written_then_read(tmp_path):
    cache = tmp_path / "timing.cache"
    builder, network = small_network()
    nn.build_engine(
        builder, network, options=BuildOptions(timing_cache=str(cache), optimization_level=0)
    )
    assert cache.stat().st_size > 0
    builder, network = small_network()  # a second build starts from the saved cache
    assert len(nn.build_engine(builder, network, options=BuildOptions(timing_cache=str(cache)))) > 0


@pytest.mark.parametrize(
    "options, flags",
    [
        (BuildOptions(refittable=True), {"REFIT"}),
        (BuildOptions(strip_weights=True), {"STRIP_PLAN", "REFIT_IDENTICAL"}),
        (BuildOptions(refittable=True, strip_weights=True), {"STRIP_PLAN", "REFIT"}),
    ],
)
def test_refit_and_weight_stripping_set_the_builder_flags(options, flags):
    builder, _ = small_network()
    config = builder.create_builder_config()
    configure(config, options)
    for flag in ("REFIT", "STRIP_PLAN", "REFIT_IDENTICAL"):
        assert config.get_flag(getattr(trt.BuilderFlag, flag)) == (flag in flags), flag


@pytest.mark.skipif(not IS_RTX, reason="compute-capability targets are a TensorRT-RTX setting")
def test_compute_capability_targets():
    builder, network = small_network()
    config = builder.create_builder_config()
    configure(config, BuildOptions(compute_capabilities=("sm86", "sm120")))
    assert config.num_compute_capabilities == 2
    assert config.get_compute_capability(1) == trt.ComputeCapability.SM120
    engine = nn.build_engine(builder, network, options=BuildOptions(compute_capabilities=("sm86",)))
    assert len(engine) > 0
    with pytest.raises(ValueError, match="--compute-capability sm99: choose from"):
        configure(builder.create_builder_config(), BuildOptions(compute_capabilities=("sm99",)))


@pytest.mark.skipif(not IS_RTX, reason="TensorRT (not RTX) supports these")
@pytest.mark.parametrize("option", ["hardware_compatible", "version_compatible"])
def test_settings_tensorrt_rtx_lacks_are_refused(option):
    builder, _ = small_network()
    with pytest.raises(ValueError, match="not supported by TensorRT-RTX"):
        configure(builder.create_builder_config(), BuildOptions(**{option: True}))


@pytest.mark.parametrize(
    "options", [BuildOptions(refittable=True), BuildOptions(strip_weights=True)]
)
def test_refit_builds_without_a_gpu_are_refused_with_the_reason(options):
    from layers.runtime import gpu_unavailable_reason

    reason = gpu_unavailable_reason()
    if reason is None:
        pytest.skip("a CUDA GPU is present: refittable and weight-stripped builds can run")
    builder, network = small_network()
    # without the check, TensorRT-RTX fails inside its JIT with a MyelinCheckException
    with pytest.raises(RuntimeError, match=r"need(s)? a CUDA GPU at build time .*build without"):
        nn.build_engine(builder, network, options=options)
