"""cnnlib.counting.summary: rows, totals, conventions and the three renderings (text, HTML, JSON)."""

import json

import numpy as np
import pytest

from cnnlib import nn
from cnnlib.counting import CONVENTIONS, Convention, Summary, summary


def small_cnn():
    # 3x8x8 -> conv 4x3x3 pad 1 -> 4x8x8 -> BN -> ReLU -> pool 2 -> 4x4x4 -> FC 64 -> 5
    return nn.Sequential(
        ("conv1", nn.Conv2d(3, 4, 3, padding=1)),
        ("bn1", nn.BatchNorm2d(4)),
        ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc", nn.Linear(64, 5)),
    )


def test_rows_by_hand():
    s = summary(small_cnn(), (3, 8, 8))
    assert [r.name for r in s.rows] == ["conv1", "bn1", "relu1", "pool1", "flatten", "fc"]
    assert [r.kind for r in s.rows] == ["CONV", "", "", "", "", "FC"]
    conv, bn, relu, pool, flat, fc = s.rows
    assert (conv.type, conv.output_shape) == ("Conv2d", (4, 8, 8))
    assert (conv.weights, conv.biases, conv.params) == (4 * 3 * 3 * 3, 4, 112)
    assert conv.macs == 108 * 8 * 8  # (R S C) M x (E F), bias adds excluded
    assert conv.output_activations == 4 * 8 * 8
    assert (bn.weights, bn.biases, bn.params, bn.macs) == (0, 0, 8, 0)  # gamma and beta
    assert relu.type == "Activation(relu)" and relu.macs == 0
    assert (pool.output_shape, pool.output_activations) == ((4, 4, 4), 64)
    assert flat.output_shape == (64,)
    assert (fc.weights, fc.biases, fc.macs, fc.output_activations) == (320, 5, 320, 5)
    assert s["fc"] is fc


def test_totals_split_conv_and_fc():
    s = summary(small_cnn(), (3, 8, 8))
    assert (s.conv.weights, s.conv.biases, s.conv.macs) == (108, 4, 6912)
    assert (s.fc.weights, s.fc.biases, s.fc.macs) == (320, 5, 320)
    assert (s.total.weights, s.total.biases) == (428, 9)
    assert s.total.params == 428 + 9 + 8  # params include batch norm's gamma and beta
    assert s.total.macs == 6912 + 320
    assert s.total.output_activations == 256 * 3 + 64 + 5  # Flatten stores nothing new


def test_conventions_change_macs_not_weights():
    net = small_cnn()
    base = summary(net, (3, 8, 8), N=3)
    assert base.total.macs == 3 * (6912 + 320)  # the lecture: N x ... MACs
    assert base.total.weights == 428  # weights do not scale with N
    lecun = summary(net, (3, 8, 8), N=3, convention="lecun")
    assert lecun.total.macs == 3 * (6912 + 256 + 320 + 5)  # one add per output of a biased layer
    per_sample = summary(net, (3, 8, 8), N=3, convention=Convention(batch=False))
    assert per_sample.total.macs == 6912 + 320
    assert per_sample.total.output_activations == base.total.output_activations // 3
    other = summary(net, (3, 8, 8), convention=Convention(other_ops=True))
    # BN and ReLU: one per element (256 each); 2x2 max pool: 3 compares per output (64 outputs)
    assert other.total.macs == 6912 + 320 + 256 + 256 + 3 * 64
    ptflops = summary(net, (3, 8, 8), N=3, convention="ptflops")
    assert ptflops.total.macs == 6912 + 256 + 320 + 5  # per image, bias adds in, other layers out
    assert {s.total.weights for s in (lecun, per_sample, other, ptflops)} == {428}


def test_to_dict_is_json_with_the_cli_fields():
    s = summary(small_cnn(), (3, 8, 8), convention="lecun")
    d = json.loads(json.dumps(s.to_dict()))
    assert d["total"] == {"weights": 428, "biases": 9, "params": 445, "macs": 6912 + 256 + 320 + 5,
                          "output_activations": 837}
    assert d["conv"]["weights"] == 108 and d["fc"]["weights"] == 320
    assert d["convention"] == {"bias_adds": True, "other_ops": False, "batch": True}
    first = d["layers"][0]
    assert {"name", "type", "output_shape", "weights", "biases", "macs"} <= set(first)
    assert first["output_shape"] == [4, 8, 8] and first["name"] == "conv1"


def test_text_and_html_tables():
    s = summary(small_cnn(), (3, 8, 8))
    text = str(s)
    lines = text.splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "weights", "biases", "params", "MACs",
                                "activations"]
    assert len({len(line) for line in lines[:-1]}) == 1  # aligned columns
    conv_line = next(line for line in lines if line.startswith("conv1"))
    assert conv_line.split()[-5:] == ["108", "4", "112", "6,912", "256"]
    assert next(line for line in lines if line.startswith("total")).split()[1:] == [
        "428", "9", "445", "7,232", "837"]
    html = s._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == 1 + 6 + 3
    assert "6,912" in html and "Activation(relu)" in html
    assert repr(s) == "<Summary of 6 layers: 428 weights, 7,232 MACs>"


def test_text_table_can_hide_row_types_but_not_from_the_totals():
    s = summary(small_cnn(), (3, 8, 8))
    full, short = str(s).splitlines(), s.to_text(hide=("Activation(relu)", "Flatten")).splitlines()
    def first_words(lines):
        return [line.split()[0].strip("-") for line in lines]  # rules (narrower when hiding) -> ""

    assert [w for w in first_words(full) if w not in ("relu1", "flatten")] == first_words(short)
    assert short[-2].split() == full[-2].split()  # the total still counts the hidden layers
    with pytest.raises(ValueError, match=r"hide must name layer types .* got \['Dropout'\]"):
        s.to_text(hide=("Dropout",))


def test_memory_in_bytes():
    s = summary(small_cnn(), (3, 8, 8), N=2, dtype=np.float16)
    assert s.memory() == {"params": 445 * 2, "activations": 837 * 2 * 2}


def test_worked_example_of_the_slides():
    # 32x32x3 input, ten 5x5 filters, stride 1, no padding -> 28x28x10 and 760 parameters
    s = summary(nn.Conv2d(3, 10, 5), (3, 32, 32))
    (row,) = s.rows
    assert row.output_shape == (10, 28, 28)
    assert (row.weights, row.biases, s.total.params) == (750, 10, 760)


def test_residual_and_concat_rows_in_execution_order():
    block = nn.Residual(nn.Sequential(("c", nn.Conv2d(2, 2, 3, padding=1, bias=False))),
                        nn.Conv2d(2, 2, 1, bias=False))
    net = nn.Sequential(("res", block), ("cat", nn.Concat(("a", nn.Conv2d(2, 3, 1)), ("b", nn.MaxPool2d(1)))))
    s = summary(net, (2, 4, 4))
    assert [r.name for r in s.rows] == ["res.main.c", "res.shortcut", "res.act", "cat.a", "cat.b"]
    assert s.rows[-1].output_shape == (2, 4, 4) and s.rows[-2].output_shape == (3, 4, 4)
    assert s.conv.weights == 2 * 2 * 9 + 2 * 2 + 3 * 2


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: summary("net", (3, 8, 8)), TypeError, "model must be a cnnlib.nn.Module; got str"),
        (lambda: summary(small_cnn(), (3, 8, 8), convention="keras"), ValueError,
         r"convention must be a Convention or one of \['fvcore', 'lecture'"),
        (lambda: summary(small_cnn(), (3, 8, 8), N=0), ValueError, "N must be >= 1; got 0"),
        (lambda: summary(small_cnn(), (2, 8, 8)), ValueError, "expects C=3 input channels"),
        (lambda: summary(small_cnn(), (3, 8, 8))["conv9"], KeyError, "no layer named 'conv9'"),
        (lambda: Convention(bias_adds=1), TypeError, "Convention.bias_adds must be a bool; got 1"),
    ],
)
def test_bad_input_is_named(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_named_conventions():
    assert isinstance(summary(small_cnn(), (3, 8, 8)), Summary)
    assert CONVENTIONS["lecture"] == Convention()
    assert CONVENTIONS["fvcore"] == Convention() and CONVENTIONS["torchinfo"] == CONVENTIONS["lecun"]
    assert CONVENTIONS["ptflops"] == Convention(bias_adds=True, batch=False)
