import json
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "cnnlib", *args], capture_output=True, text=True)


def test_map_json_has_stable_keys_and_consistent_numbers():
    res = run("map", "alexnet", "--layer", "conv1", "--dataflow", "rs", "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert {"model", "layer_name", "dataflow", "loop_nest", "macs", "accesses", "noc", "energy", "cycles",
            "utilization", "active_pes", "pes", "lower_bound", "above_bound"} <= set(d)
    assert d["macs"] == 105_415_200
    assert d["pes"] == 168 and d["active_pes"] == 121
    assert abs(sum(d["energy"]["per_level"].values()) + d["energy"]["noc"] + d["energy"]["mac"]
               - d["energy"]["total"]) < 1e-6 * d["energy"]["total"]
    assert d["above_bound"] >= 1 and 0 < d["utilization"] <= 1
    assert "spatial_for r in [0:11)   (rows)" in d["loop_nest"]


def test_map_text_and_bad_layer():
    res = run("map", "lenet5", "--layer", "c3", "--dataflow", "ws")
    assert res.returncode == 0, res.stderr
    assert "MAC" in res.stdout and "lower bound" in res.stdout
    bad = run("map", "alexnet", "--layer", "conv9")
    assert bad.returncode == 2
    assert "--layer must be a CONV/FC layer of alexnet: conv1" in bad.stderr


def test_map_without_sliding_window_refetches_whole_input_tiles():
    """RS on AlexNet conv1, as in notebook 12: 6.78 x MAC per MAC with sliding-window reuse, 7.03 without."""
    per_mac = {}
    for flag in ((), ("--no-sliding-window",)):
        res = run("map", "alexnet", "--layer", "conv1", "--dataflow", "rs", "--json", *flag)
        assert res.returncode == 0, res.stderr
        d = json.loads(res.stdout)
        assert d["sliding_window"] == (not flag)
        per_mac[bool(flag)] = d["energy"]["per_mac"]
    assert f"{per_mac[False]:.2f} {per_mac[True]:.2f}" == "6.78 7.03"
