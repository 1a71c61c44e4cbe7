"""Where Q/DQ pairs go, by TensorRT's placement recommendations for explicit quantization.

* The inputs (activation and weight) of every convolution, transposed convolution and linear
  layer are quantized: those modules are written ``nn.Conv2d(..., quant="int8")``.
* Their outputs are not: TensorRT fuses bias, BatchNorm (left unfolded) and activations into
  the quantized layer and picks the output precision itself.
* A residual add fed by a conv/BatchNorm path gets a Q/DQ pair on its other (skip) input,
  ``out = bn2 + self.residual_quantizer(identity)``, so TensorRT fuses conv + BN + add + ReLU
  into one INT8 kernel. No conv/BN path gets a Q/DQ pair before an add it feeds: when both
  inputs are conv paths (a downsampling shortcut), neither is quantized.

* Both operands of a product of two activations (``q @ k.transpose(-1, -2)``, ``probs @ v``)
  and the query, key and value of ``scaled_dot_product_attention`` get Q/DQ pairs, so TensorRT
  runs attention's batched matrix multiplies quantized: ``self.query_quantizer(query)``.

``--skip-quant`` paths (and everything under them) stay in float.
"""

import torch

from ..plan.normalize import normalize

WEIGHTED = (torch.nn.modules.conv._ConvNd, torch.nn.Linear)
# producers TensorRT fuses an elementwise add into (conv, or BatchNorm right after a conv)
FUSABLE = (torch.nn.modules.conv._ConvNd, torch.nn.modules.batchnorm._BatchNorm)
RESIDUAL_QUANTIZER = "residual"
# products of two activations: operand position → quantizer name (None: the operand's own name)
ACTIVATION_PRODUCTS = {
    "matmul": {0: None, 1: None},
    "bmm": {0: None, 1: None},
    "scaled_dot_product_attention": {0: "query", 1: "key", 2: "value"},
}


class TorchQuantDequant(torch.nn.Module):
    """Stands for ``nn.QuantDequant(quant)`` in the captured graph; the identity in PyTorch."""

    layers_class_name = "QuantDequant"

    def __init__(self, quant, axis=None, channels=None):
        super().__init__()
        self.quant, self.axis, self.channels = quant, axis, channels

    def forward(self, x):
        return x


def skipped(path, skip):
    return any(path == s or path.startswith(s + ".") for s in skip)


def mark_weighted_modules(model, quant, skip):
    """Set ``quant`` on every weighted module outside ``skip`` (read back as a constructor
    argument of its ``layers`` class); returns their paths."""
    marked = []
    for path, module in model.named_modules():
        if isinstance(module, WEIGHTED) and not skipped(path, skip):
            module.quant = quant
            marked.append(path)
    return marked


def add_residual_quantizers(captures, quant, skip):
    """Rewrite each captured ``a + b`` where one side comes from a conv/BN path: the other side
    goes through a new ``residual_quantizer`` child. Returns the quantizers' module paths."""
    added = []
    for capture in captures:
        if skipped(capture.path, skip):
            continue
        for node in list(capture.graph.nodes):
            skip_input = _skip_input(capture, node)
            if skip_input is None:
                continue
            key, call = insert_quantizer(
                capture, node, skip_input, RESIDUAL_QUANTIZER, TorchQuantDequant(quant)
            )
            node.replace_input_with(skip_input, call)
            added.append(key)
    return added


def add_product_quantizers(captures, quant, skip):
    """Q/DQ pairs on the operands of every captured product of two activations (attention's
    ``q @ kᵀ`` and ``probs @ v``, sdpa's query, key and value). Returns their module paths."""
    added = []
    for capture in captures:
        if skipped(capture.path, skip):
            continue
        live = _activations(capture.graph)
        for node in list(capture.graph.nodes):
            if node.op not in ("call_function", "call_method"):
                continue
            names = ACTIVATION_PRODUCTS.get(normalize(node).name)
            if names is None or len(node.args) <= max(names):
                continue  # not a product, or its operands passed by keyword
            operands = dict(zip((node.args[i] for i in names), names.values()))
            if not all(isinstance(a, torch.fx.Node) and a in live for a in operands):
                continue  # a product with a weight (a constant) is a linear layer: left as is
            for operand, name in operands.items():
                key, call = insert_quantizer(
                    capture, node, operand, name or operand.name, TorchQuantDequant(quant)
                )
                node.replace_input_with(operand, call)
                added.append(key)
    return added


def _activations(graph):
    """The nodes whose value depends on the forward's inputs (not only on weights)."""
    live = set()
    for node in graph.nodes:
        if node.op == "placeholder" or any(a in live for a in node.all_input_nodes):
            live.add(node)
    return live


def insert_quantizer(capture, before, source, stem, quantizer):
    """Add ``quantizer`` as a new child ``<stem>_quantizer`` of the captured module, called on
    ``source`` just before node ``before``; returns (the child's module path, the call node)."""
    name = _free_name(capture, stem.replace(".", "_"))
    capture.module.add_module(name, quantizer)
    with capture.graph.inserting_before(before):
        # create_node: the graph's own GraphModule does not have the new child
        call = capture.graph.create_node("call_module", name, (source,))
    return (f"{capture.path}.{name}" if capture.path else name), call


def _skip_input(capture, node):
    """The operand of a residual add to quantize, or None when ``node`` is no such add."""
    if node.op not in ("call_function", "call_method") or normalize(node).name != "add":
        return None
    operands = [a for a in node.args[:2] if isinstance(a, torch.fx.Node)]
    if len(operands) != 2 or operands[0] is operands[1]:
        return None
    first, second = (_fusable(capture, a) for a in operands)
    if first != second:
        return operands[1] if first else operands[0]
    return None


def _fusable(capture, node):
    """``node`` is the output of a conv or BatchNorm module (a Sequential ending in one too)."""
    if node.op != "call_module":
        return False
    module = capture.module.get_submodule(node.target)
    while isinstance(module, torch.nn.Sequential) and len(module):
        module = module[-1]
    return isinstance(module, FUSABLE)


def _free_name(capture, stem):
    """``<stem>_quantizer`` (``_1``, ``_2``... when taken). A quantizer this graph does not call
    is free: one left on the model by an earlier generation (``trtgen bench --repeat``)."""
    called = {n.target for n in capture.graph.nodes if n.op == "call_module"}
    name, index = f"{stem}_quantizer", 0
    while hasattr(capture.module, name) and (
        name in called or not isinstance(getattr(capture.module, name), TorchQuantDequant)
    ):
        index += 1
        name = f"{stem}_quantizer_{index}"
    return name


__all__ = [
    "TorchQuantDequant",
    "mark_weighted_modules",
    "add_residual_quantizers",
    "add_product_quantizers",
    "insert_quantizer",
]
