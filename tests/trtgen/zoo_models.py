"""Models for the end-to-end tests: torchvision factories with non-trivial random weights.

Freshly initialised models hide mistakes (zero-initialised heads output constants, default
BatchNorm statistics are the identity), so every model here gets random statistics and no
all-zero or all-one tensors.
"""

import textwrap

import torch
import torchvision

SHAPES = {"vit_b_16": (1, 3, 224, 224)}
DEFAULT_SHAPE = (1, 3, 64, 64)


def randomize(model, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm) and module.running_mean is not None:
                module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=generator) - 0.5)
                module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) * 1.5 + 0.5)
        for param in model.parameters():
            if bool((param == 0).all()):
                scale = 0.02 if param.dim() >= 2 else 0.1
                param.copy_(torch.randn(param.shape, generator=generator) * scale)
            elif bool((param == 1).all()):
                param.copy_(torch.rand(param.shape, generator=generator) + 0.5)
    return model


def build(name):
    torch.manual_seed(0)
    return randomize(getattr(torchvision.models, name)())


def example(name):
    generator = torch.Generator().manual_seed(1)
    return (torch.randn(*SHAPES.get(name, DEFAULT_SHAPE), generator=generator),)


def model_file(tmp_path, name):
    """A MODEL.py for ``trtgen`` that builds torchvision's ``name`` through this module."""
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(__file__.rsplit('/', 1)[0])!r})
        import zoo_models

        def get_model():
            return zoo_models.build({name!r})

        def get_example_inputs():
            return zoo_models.example({name!r})
    """))
    return path
