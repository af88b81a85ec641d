"""``python -m cnnlib summary MODEL``: the table, the JSON and its errors, via a subprocess."""

import json
import subprocess
import sys

from cnnlib import models


def run(*args):
    return subprocess.run([sys.executable, "-m", "cnnlib", "summary", *args], capture_output=True, text=True)


def test_json_fields_and_default_convention():
    res = run("lenet5", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["model"] == "lenet5" and out["input_shape"] == [1, 32, 32]
    c1 = out["layers"][0]
    assert {k: c1[k] for k in ("name", "type", "output_shape", "weights", "biases", "macs")} == {
        "name": "c1", "type": "Conv2d", "output_shape": [6, 28, 28], "weights": 150, "biases": 6,
        "macs": 117_600}
    assert out["total"] == {"weights": 61_470, "biases": 236, "params": 61_706, "macs": 416_520,
                            "output_activations": 14_602}


def test_params_include_batch_norm_and_variant_flag():
    v1 = json.loads(run("resnet50", "--json").stdout)["total"]
    v15 = json.loads(run("resnet50", "--variant", "v1.5", "--json").stdout)["total"]
    assert (v1["weights"], v1["biases"], v1["params"]) == (25_502_912, 1_000, 25_557_032)
    assert (v1["macs"], v15["macs"]) == (3_857_973_248, 4_089_184_256)


def test_convention_flags():
    lecun = json.loads(run("lenet5_sparse", "--convention", "lecun", "--json").stdout)
    bias = json.loads(run("lenet5_sparse", "--bias-adds", "--json").stdout)
    assert lecun["total"]["macs"] == bias["total"]["macs"] == 333_038
    assert lecun["layers"][0]["macs"] == 122_304
    other = json.loads(run("lenet5", "--other-ops", "--batch", "2", "--json").stdout)
    # tanh on 4,704 + 1,600 + 120 + 84 values, 3 adds per pooled output (1,176 + 400)
    assert other["total"]["macs"] == 2 * (416_520 + 6_508 + 3 * 1_576)
    assert other["total"]["weights"] == 61_470  # the batch shares the weights


def test_text_table_and_input_option():
    res = run("lenet5", "--input", "1,36,36")
    assert res.returncode == 2 and "expects K=400" in res.stderr  # 36x36 gives 6x6x16 maps
    res = run("lenet5")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["layer", "type", "output"]
    assert any(line.startswith("total") and "61,470" in line and "416,520" in line for line in lines)


def test_unknown_model_and_bad_options_exit_2():
    res = run("lenet6")
    assert res.returncode == 2 and res.stdout == ""
    assert all(name in res.stderr for name in models.names())
    assert run("lenet5", "--input", "32,32").returncode == 2
    res = run("alexnet", "--variant", "v1.5")
    assert res.returncode == 2 and "ResNets only" in res.stderr
    res = run("lenet5", "--convention", "tool")
    assert res.returncode == 2 and "convention must be" in res.stderr
