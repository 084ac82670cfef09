"""The network, layer by layer, read from the Keras model itself so that the description cannot drift.

For each layer: output shape, parameters, receptive field and multiply-adds (MACs). Receptive field
follows the usual recursion (rf += (kernel - 1) * dilation * jump; jump *= stride) through the layer
graph; for a log-DCT input it is measured in DCT coefficients, i.e. a neighbourhood of frequencies.
MACs are counted for the layers that multiply and add (Dense, convolutions, batch normalisation);
activations and pooling are counted as none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A receptive field that covers the whole input (after Flatten, a Dense on it, or global pooling).
WHOLE_INPUT = None


@dataclass(frozen=True)
class LayerRow:
    """One layer of a model, as the architecture table shows it."""

    name: str
    kind: str
    """The layer's class name, with its main settings (e.g. ``Conv2D 8x3x3 relu``)."""
    output_shape: tuple
    """Output shape without the batch dimension."""
    params: int
    receptive_field: tuple[int, int] | None
    """(height, width) of input each output value sees; :data:`WHOLE_INPUT` for all of it."""
    macs: int
    """Multiply-adds per image."""


def _inbound_layer_names(layer_config: dict) -> list[str]:
    """Names of the layers feeding a layer, from a functional model's config (a public format)."""
    names = []

    def walk(obj):
        if isinstance(obj, dict):
            if obj.get("class_name") == "__keras_tensor__":
                names.append(obj["config"]["keras_history"][0])  # (layer name, node, tensor)
                return
            for value in obj.values():
                walk(value)
        elif isinstance(obj, (list, tuple)):
            for value in obj:
                walk(value)

    walk(layer_config.get("inbound_nodes", []))
    return names


def _describe(layer) -> str:
    kind = type(layer).__name__
    config = layer.get_config()
    details = []
    if "filters" in config:
        details.append(f"{config['filters']}x" + "x".join(map(str, config["kernel_size"])))
    elif "units" in config:
        details.append(str(config["units"]))
    if "pool_size" in config:
        details.append("x".join(map(str, config["pool_size"])))
    if config.get("activation") not in (None, "linear"):
        details.append(str(config["activation"]))
    return " ".join([kind, *details])


def _macs(layer, output_shape: tuple) -> int:
    """Multiply-adds per image of one layer.

    Raises:
      ValueError: a layer with weights whose MACs this function does not know how to count.
    """
    from keras import layers

    outputs = int(np.prod(output_shape))
    if isinstance(layer, (layers.Dense, layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        # Each output value is one dot product over the kernel's slice for its output channel.
        kernel = layer.kernel
        return outputs * int(np.prod(kernel.shape)) // int(kernel.shape[-1])
    if isinstance(layer, layers.BatchNormalization):
        return outputs  # folded into one scale-and-shift per value at inference
    if layer.weights:
        raise ValueError(
            f"Expected a layer type whose multiply-adds are known, got {type(layer).__name__} "
            f"({layer.name}); teach analysis.architecture._macs to count it."
        )
    return 0


def _receptive_field(layer, output_shape: tuple, inbound: list) -> tuple | None:
    """(rf_h, rf_w, jump_h, jump_w) of a layer's output, from those of its inputs."""
    if not inbound:  # an Input
        return (1, 1, 1, 1)
    if len(output_shape) < 3 or any(field is WHOLE_INPUT for field in inbound):
        return WHOLE_INPUT  # a vector per image: every value may depend on every input value
    # Merged branches (e.g. Concatenate): the widest field and coarsest stride of the inputs.
    rf_h, rf_w, jump_h, jump_w = (int(v) for v in np.max(np.array(inbound), axis=0))
    config = layer.get_config()
    kernel = config.get("kernel_size") or config.get("pool_size")
    if kernel is None:
        return (rf_h, rf_w, jump_h, jump_w)
    strides = config.get("strides") or kernel
    dilation = config.get("dilation_rate", (1, 1))
    rf_h += (kernel[0] - 1) * dilation[0] * jump_h
    rf_w += (kernel[1] - 1) * dilation[1] * jump_w
    return (rf_h, rf_w, jump_h * strides[0], jump_w * strides[1])


def layer_table(model) -> list[LayerRow]:
    """The rows of a functional Keras model, in the order of its layers.

    Raises:
      ValueError: a layer whose multiply-adds are not known (see :func:`_macs`).
    """
    configs = {c["name"]: c for c in model.get_config()["layers"]}
    fields: dict[str, tuple | None] = {}
    rows = []
    for layer in model.layers:
        output_shape = tuple(int(d) for d in layer.output.shape[1:])
        inbound = [fields[name] for name in _inbound_layer_names(configs[layer.name])]
        fields[layer.name] = _receptive_field(layer, output_shape, inbound)
        field = fields[layer.name]
        rows.append(LayerRow(
            name=layer.name,
            kind=_describe(layer),
            output_shape=output_shape,
            params=int(sum(np.prod(w.shape) for w in layer.weights)),
            receptive_field=WHOLE_INPUT if field is WHOLE_INPUT else (field[0], field[1]),
            macs=_macs(layer, output_shape),
        ))
    return rows


def _shape(shape: tuple) -> str:
    return " x ".join(map(str, shape))


def _field(row: LayerRow) -> str:
    return "whole input" if row.receptive_field is WHOLE_INPUT else "x".join(map(str, row.receptive_field))


def table_markdown(model) -> str:
    """A markdown table of :func:`layer_table`, with a totals row."""
    rows = layer_table(model)
    lines = [
        "| layer | type | output shape | parameters | receptive field | multiply-adds |",
        "|---|---|---|---:|---|---:|",
    ]
    lines += [
        f"| `{r.name}` | {r.kind} | {_shape(r.output_shape)} | {r.params:,} | {_field(r)} | {r.macs:,} |"
        for r in rows
    ]
    lines.append(
        f"| **total** | | | **{sum(r.params for r in rows):,}** | | **{sum(r.macs for r in rows):,}** |"
    )
    return "\n".join(lines)


def architectures_markdown(architectures: dict, input_shape=(128, 128, 3)) -> str:
    """One section per architecture in ``architectures`` (name -> (build function, representation)),
    each model built fresh for ``input_shape``.

    Clears the Keras session before each build, so that automatic layer names (``conv2d_1``...) do
    not depend on what was built before and the generated text is the same on every run.
    """
    import keras

    sections = []
    for name, (build, representation) in architectures.items():
        keras.backend.clear_session()
        model = build(input_shape)
        sections.append(
            f"#### `{name}` (`{build.__module__}.{build.__name__}`, reads `{representation}`)\n\n"
            f"{table_markdown(model)}\n"
        )
    return "\n".join(sections)
