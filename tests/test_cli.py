import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "cnnlib", *args], capture_output=True, text=True)


def test_conv_size():
    assert run("conv-size", "7", "3").stdout.strip() == "5"
    assert run("conv-size", "7", "3", "--stride", "2").stdout.strip() == "3"


def test_bad_arguments_exit_2_with_a_message():
    res = run("conv-size", "3", "7")
    assert res.returncode == 2
    assert "larger than the padded input" in res.stderr


def test_map_all_json_has_layers_and_totals():
    import json

    from cnnlib.hardware.network import map_network

    res = run("map", "lenet5", "--all", "--batch", "2", "--dataflow", "ws", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    keys = {"name", "macs", "energy", "cycles", "dram_accesses"}
    assert [r["name"] for r in d["layers"]] == ["c1", "c3", "f5", "f6", "output"]
    assert all(keys <= set(r) for r in d["layers"]) and keys | {"dram_accesses_per_mac"} <= set(d["total"])
    assert (d["batch"], d["dataflow"], d["clock_hz"], d["pes"]) == (2, "ws", 200e6, 168)
    assert d["total"]["macs"] == 2 * 416_520
    assert d["total"] == map_network("lenet5", batch=2, flow="ws").total()  # the CLI prints the library's totals
    text = run("map", "lenet5", "--all", "--precision", "int8")
    assert text.returncode == 0, text.stderr
    assert "Eyeriss-like, int8" in text.stdout and "inferences/s" in text.stdout


def test_map_needs_a_layer_or_all():
    assert run("map", "lenet5").returncode == 2
    assert run("map", "lenet5", "--all", "--layer", "c1").returncode == 2
