"""``python -m cnnlib quantize``: LeNet-5 at b bits against float, on the course's test split."""

import json
import subprocess
import sys

import numpy as np

from cnnlib.hardware.network import map_network
from cnnlib.hardware.precision import PRECISIONS
from cnnlib.models import lenet5


def run(*args):
    return subprocess.run([sys.executable, "-m", "cnnlib", "quantize", *args], capture_output=True, text=True)


def test_quantize_lenet5_8_bits_json():
    res = run("lenet5", "--bits", "8", "--json")
    assert res.returncode == 0, res.stderr
    r = json.loads(res.stdout)
    assert (r["model"], r["bits"], r["per_channel"], r["calibration_digits"], r["test_digits"]) == (
        "lenet5", 8, False, 500, 1000)
    assert r["float_accuracy"] == 0.982  # notebook 09's 98.2 % on the same 1,000 test digits
    assert r["float_accuracy"] - 0.005 <= r["quantized_accuracy"] <= 1
    params = lenet5().parameters()
    weights = sum(p.size for k, p in params.items() if k.endswith(".w"))
    biases = sum(p.size for k, p in params.items() if k.endswith(".b"))
    assert r["weight_bytes"] == {"float32": 4 * (weights + biases), "quantized": weights + 4 * biases}
    energy = r["energy_per_inference_pj"]
    np.testing.assert_allclose(  # the hardware model's figures, computed here directly
        [energy["float32"], energy["quantized"]],
        [map_network("lenet5", prec=PRECISIONS[p]).total()["energy_per_inference_pj"] for p in ("fp32", "int8")])
    assert energy["quantized"] < energy["float32"] / 3


def test_quantize_text_output_per_channel_4_bits():
    res = run("lenet5", "--bits", "4", "--per-channel")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "LeNet-5, 4-bit weights and activations (per channel), calibrated on 500 validation digits"
    assert lines[1].startswith("accuracy on 1000 test digits: float 98.2%, 4-bit ")
    assert "int8 MAC (upper bound" in lines[3]


def test_quantize_bad_arguments_exit_2_with_a_message():
    for args, message in ((("lenet5", "--bits", "1"), "bits must be an int in 2 ... 16; got 1"),
                          (("lenet5", "--bits", "17"), "got 17"),
                          (("alexnet", "--bits", "8"), "invalid choice: 'alexnet'")):
        res = run(*args)
        assert res.returncode == 2 and message in res.stderr, res.stderr
