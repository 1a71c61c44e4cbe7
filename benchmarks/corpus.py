"""The model corpus trtgen is measured on: torchvision, detection-style nets, timm, transformers.

Every entry builds its model with random weights (no downloads) made non-trivial by
``randomize`` (BatchNorm statistics, no all-zero / all-one tensors), and example inputs from a
fixed seed. ``model_file(name, folder)`` writes a MODEL.py for the ``trtgen`` command line.
"""

import dataclasses
import textwrap

import torch

from detection_nets import centernet, multi_io, yolov8


@dataclasses.dataclass(frozen=True)
class Entry:
    family: str
    build: object  # () -> nn.Module
    inputs: object  # () -> tuple of tensors


def randomize(model, seed=0):
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if (
                isinstance(module, torch.nn.modules.batchnorm._BatchNorm)
                and module.running_mean is not None
            ):
                module.running_mean.copy_(
                    torch.rand(module.running_mean.shape, generator=generator) - 0.5
                )
                module.running_var.copy_(
                    torch.rand(module.running_var.shape, generator=generator) * 1.5 + 0.5
                )
        for param in model.parameters():
            if param.dtype.is_floating_point and bool((param == 0).all()):
                param.copy_(
                    torch.randn(param.shape, generator=generator)
                    * (0.02 if param.dim() >= 2 else 0.1)
                )
            elif param.dtype.is_floating_point and bool((param == 1).all()):
                param.copy_(torch.rand(param.shape, generator=generator) + 0.5)
    return model.eval()


def image(*shape):
    return lambda: (torch.randn(*shape, generator=torch.Generator().manual_seed(1)),)


def tokens(vocab, batch=2, length=16, mask=True, extra=()):
    def make():
        generator = torch.Generator().manual_seed(1)
        ids = torch.randint(0, vocab, (batch, length), generator=generator)
        if not mask:
            return (ids,)
        attention = torch.ones(batch, length, dtype=torch.int64)
        attention[-1, length * 2 // 3 :] = 0  # the last sequence is padded
        return (ids, attention) + tuple(extra)

    return make


def _torchvision(name, **kwargs):
    def build():
        import torchvision

        torch.manual_seed(0)
        return randomize(getattr(torchvision.models, name)(**kwargs))

    return build


def _segmentation(name):
    def build():
        import torchvision

        torch.manual_seed(0)
        return randomize(
            getattr(torchvision.models.segmentation, name)(
                weights=None, weights_backbone=None, aux_loss=False
            )
        )

    return build


def _timm(name, **kwargs):
    def build():
        import timm

        torch.manual_seed(0)
        return randomize(timm.create_model(name, pretrained=False, **kwargs))

    return build


def _transformers(model_class, config_class, **config):
    def build():
        import transformers

        torch.manual_seed(0)
        cfg = getattr(transformers, config_class)(**config)
        return randomize(getattr(transformers, model_class)(cfg))

    return build


class TextModel(torch.nn.Module):
    """Calls a transformers model with keyword inputs (GPT-2's second positional is the cache)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask)


def _keyword_text(build):
    return lambda: TextModel(build()).eval()


def _whisper_encoder():
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    torch.manual_seed(0)
    config = WhisperConfig(
        d_model=64,
        encoder_layers=2,
        encoder_attention_heads=4,
        encoder_ffn_dim=128,
        num_mel_bins=16,
        max_source_positions=32,
    )
    return randomize(WhisperEncoder(config))


SMALL_TEXT = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128)

CORPUS = {}


def _add(family, name, build, inputs):
    CORPUS[name] = Entry(family, build, inputs)


for _name in [
    "alexnet",
    "convnext_tiny",
    "densenet121",
    "efficientnet_b0",
    "efficientnet_v2_s",
    "googlenet",
    "mnasnet0_5",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "regnet_x_400mf",
    "resnet18",
    "resnet50",
    "resnext50_32x4d",
    "wide_resnet50_2",
    "shufflenet_v2_x0_5",
    "squeezenet1_0",
    "vgg11_bn",
]:
    _add("torchvision", _name, _torchvision(_name), image(1, 3, 64, 64))
_add(
    "torchvision",
    "inception_v3",
    _torchvision("inception_v3", aux_logits=False, init_weights=False),
    image(1, 3, 96, 96),
)
for _name in ["maxvit_t", "swin_t", "vit_b_16"]:
    _add("torchvision", _name, _torchvision(_name), image(1, 3, 224, 224))
_add("torchvision", "swin_v2_t", _torchvision("swin_v2_t"), image(1, 3, 256, 256))
for _name in ["fcn_resnet50", "deeplabv3_resnet50", "lraspp_mobilenet_v3_large"]:
    _add("segmentation", _name, _segmentation(_name), image(1, 3, 64, 64))
_add("detection", "centernet", lambda: randomize(centernet()), image(1, 3, 64, 64))
_add("detection", "yolov8", lambda: randomize(yolov8()), image(1, 3, 64, 64))
_add(
    "structure",
    "multi_io",
    lambda: randomize(multi_io()),
    lambda: (
        torch.randn(2, 3, 8, 8, generator=torch.Generator().manual_seed(1)),
        torch.randn(2, 6, generator=torch.Generator().manual_seed(2)),
    ),
)
for _name, _kw, _shape in [
    ("resnet18", {}, (1, 3, 64, 64)),
    ("efficientnet_b0", {}, (1, 3, 64, 64)),
    ("mobilenetv3_small_100", {}, (1, 3, 64, 64)),
    ("mobilevit_xxs", {}, (1, 3, 64, 64)),
    ("convnext_atto", {}, (1, 3, 64, 64)),
    ("vit_tiny_patch16_224", {"img_size": 64}, (1, 3, 64, 64)),
    ("deit_tiny_patch16_224", {"img_size": 64}, (1, 3, 64, 64)),
    ("swin_tiny_patch4_window7_224", {"img_size": 112}, (1, 3, 112, 112)),
    ("regnetx_002", {}, (1, 3, 64, 64)),
]:
    _add("timm", f"timm_{_name}", _timm(_name, **_kw), image(*_shape))
_add(
    "transformers",
    "bert",
    _transformers("BertModel", "BertConfig", vocab_size=100, **SMALL_TEXT),
    tokens(100),
)
_add(
    "transformers",
    "roberta",
    _transformers("RobertaModel", "RobertaConfig", vocab_size=100, **SMALL_TEXT),
    tokens(100),
)
_add(
    "transformers",
    "distilbert",
    _transformers(
        "DistilBertModel",
        "DistilBertConfig",
        vocab_size=100,
        dim=64,
        n_layers=2,
        n_heads=4,
        hidden_dim=128,
    ),
    tokens(100),
)
_add(
    "transformers",
    "gpt2",
    _keyword_text(
        _transformers(
            "GPT2Model",
            "GPT2Config",
            vocab_size=100,
            n_embd=64,
            n_layer=2,
            n_head=4,
            n_positions=64,
            use_cache=False,
            bos_token_id=0,
            eos_token_id=0,
        )
    ),
    tokens(100),
)
_add(
    "transformers",
    "vit_hf",
    _transformers("ViTModel", "ViTConfig", image_size=32, patch_size=8, **SMALL_TEXT),
    image(1, 3, 32, 32),
)
_add(
    "transformers",
    "clip_vision",
    _transformers("CLIPVisionModel", "CLIPVisionConfig", image_size=32, patch_size=8, **SMALL_TEXT),
    image(1, 3, 32, 32),
)
_add(
    "transformers",
    "clip_text",
    _transformers(
        "CLIPTextModel", "CLIPTextConfig", vocab_size=100, max_position_embeddings=32, **SMALL_TEXT
    ),
    tokens(100),
)
_add(
    "transformers",
    "t5_encoder",
    _transformers(
        "T5EncoderModel",
        "T5Config",
        vocab_size=100,
        d_model=64,
        d_kv=16,
        d_ff=128,
        num_layers=2,
        num_heads=4,
    ),
    tokens(100),
)
_add("transformers", "whisper_encoder", _whisper_encoder, image(1, 16, 64))


def model_file(name, folder):
    """Write ``folder/<name>.py`` defining get_model() / get_example_inputs() for ``name``."""
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(folder, f"{name}.py")
    with open(path, "w") as f:
        f.write(textwrap.dedent(f"""\
            import sys
            sys.path.insert(0, {here!r})
            import corpus

            def get_model():
                return corpus.CORPUS[{name!r}].build()

            def get_example_inputs():
                return corpus.CORPUS[{name!r}].inputs()
            """))
    return path
