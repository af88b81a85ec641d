import dataclasses

import pytest

from cnnlib import history
from cnnlib.history import HUMAN_TOP5_ERROR, ILSVRC_TOP5, result, winners


def test_lecture_numbers():
    """The top-5 errors the lecture quotes (slides "ImageNet Challenge Winners", "Famous CNNs")."""
    expected = {
        "NEC-UIUC": (2010, 28.2), "XRCE": (2011, 25.8), "AlexNet": (2012, 16.4),
        "ZFNet (Clarifai)": (2013, 11.7), "GoogLeNet": (2014, 6.7), "VGG-16": (2014, 7.3),
        "ResNet": (2015, 3.57),
    }
    assert {r.network: (r.year, r.top5_error) for r in ILSVRC_TOP5} == expected
    assert HUMAN_TOP5_ERROR == 5.1


def test_one_winner_per_year_and_error_falls_every_year():
    years = [r.year for r in winners()]
    assert years == list(range(2010, 2016))
    errors = [r.top5_error for r in winners()]
    assert all(a > b for a, b in zip(errors[:-1], errors[1:], strict=True))
    assert [r.network for r in ILSVRC_TOP5 if not r.winner] == ["VGG-16"]


def test_every_entry_cites_a_source_of_the_module():
    sources = {history.RUSSAKOVSKY_2015, history.SZE_2017}
    assert all(r.source in sources for r in ILSVRC_TOP5)
    assert list(ILSVRC_TOP5) == sorted(ILSVRC_TOP5, key=lambda r: r.year)


def test_first_winner_below_human_is_resnet():
    below = [r for r in winners() if r.top5_error < HUMAN_TOP5_ERROR]
    assert [r.network for r in below] == ["ResNet"]


def test_records_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ILSVRC_TOP5[0].top5_error = 0.0


def test_result_lookup_and_unknown_name():
    assert result("GoogLeNet").year == 2014
    with pytest.raises(ValueError, match="network must be one of .*got 'LeNet'"):
        result("LeNet")
