"""The full tables behind claims the notebooks make with one readable assert each.

A notebook asserts the claim it states (e.g. "conv1 has 16 x 5 x 5 x 3 weights"); the
exhaustive per-layer tables that pin every number live here, so notebook code shows the idea.
"""

from cnnlib import nn
from cnnlib.counting import summary


def small_cnn():
    """The small CNN of notebook 04 (section "Weights versus activations")."""
    return nn.Sequential(
        ("conv1", nn.Conv2d(3, 16, 5, padding=2)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding=1)), ("bn2", nn.BatchNorm2d(32)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool2d(2)),
        ("conv3", nn.Conv2d(32, 64, 3, padding=1)), ("relu3", nn.ReLU()), ("pool3", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(64 * 4 * 4, 256)), ("relu4", nn.ReLU()),
        ("fc2", nn.Linear(256, 10)),
    )


def test_notebook_04_small_cnn_summary_by_hand():
    s = summary(small_cnn(), (3, 32, 32))
    by_hand = {  # weights = M x R x S x C; MACs = weights x E x F
        "conv1": (16 * 5 * 5 * 3, 32 * 32),
        "conv2": (32 * 3 * 3 * 16, 16 * 16),
        "conv3": (64 * 3 * 3 * 32, 8 * 8),
        "fc1": (1024 * 256, 1),
        "fc2": (256 * 10, 1),
    }
    for name, (weights, positions) in by_hand.items():
        assert (s[name].weights, s[name].macs) == (weights, weights * positions), name
    assert s.total.params == s.total.weights + s.total.biases + 2 * (16 + 32)  # BN's gamma and beta
    assert (s.to_dict()["total"]["weights"], s.to_dict()["total"]["macs"]) == (288_944, 3_852_800)
