"""The ImageNet challenge (ILSVRC) by year: the data behind the lecture's "ImageNet Challenge Winners".

Each result is a small frozen record with its source, so a notebook can chart it, assert the
numbers the lecture quotes and cite where they come from. Errors are top-5 classification error
in percent on the ILSVRC test set: the share of images whose true class is not among the
network's five best guesses.

Sources
-------
RUSSAKOVSKY_2015
    O. Russakovsky et al., "ImageNet Large Scale Visual Recognition Challenge", International
    Journal of Computer Vision 115(3), 211-252, 2015: the winners 2010-2014 and the human
    top-5 error (Sec. 6.4).
SZE_2017
    V. Sze, Y.-H. Chen, T.-J. Yang, J. Emer, "Efficient Processing of Deep Neural Networks:
    A Tutorial and Survey", Proceedings of the IEEE 105(12), 2017: the lecture's main
    reference; its chart of the winners (the one the lecture shows) adds 2015, won by an
    ensemble of residual networks (K. He et al., "Deep Residual Learning for Image
    Recognition", CVPR 2016).
"""

from __future__ import annotations

from dataclasses import dataclass

RUSSAKOVSKY_2015 = "Russakovsky et al. 2015, IJCV 115(3)"
SZE_2017 = "Sze et al. 2017, Proc. IEEE 105(12)"


@dataclass(frozen=True)
class ILSVRCResult:
    """One entry of the ILSVRC classification task.

    Attributes
    ----------
    year : int
        Year of the challenge.
    network : str
        Name of the network (or team, when the network has no other name).
    top5_error : float
        Top-5 error on the test set, in percent.
    winner : bool
        True for the year's winner, False for a notable runner-up.
    source : str
        Where the number comes from (one of the module's source constants).
    note : str
        What the number needs to be read correctly.
    models : int or None
        How many networks the entry averaged (an ensemble when > 1); None where the sources
        do not say. The costs the course counts are those of one network.
    """

    year: int
    network: str
    top5_error: float
    winner: bool
    source: str
    note: str = ""
    models: int | None = 1

    @property
    def label(self) -> str:
        """The network's name, with the ensemble's size where it was one.

        Examples
        --------
        >>> result("AlexNet").label
        'AlexNet (5 CNNs)'
        >>> result("XRCE").label
        'XRCE'
        """
        if self.models is None:
            return f"{self.network} (ensemble)"
        return self.network if self.models == 1 else f"{self.network} ({self.models} CNNs)"


#: The classification winners 2010-2015 and the 2014 runner-up VGG-16, in year order. The CNN
#: entries are ensembles (``models`` > 1): their errors are not those of one network.
ILSVRC_TOP5 = (
    ILSVRCResult(2010, "NEC-UIUC", 28.2, True, RUSSAKOVSKY_2015, "hand-made features + linear SVM"),
    ILSVRCResult(2011, "XRCE", 25.8, True, RUSSAKOVSKY_2015, "Fisher vectors + linear SVM"),
    ILSVRCResult(2012, "AlexNet", 16.4, True, RUSSAKOVSKY_2015,
                 "team SuperVision, the first CNN winner; one CNN: 18.2 % (val., Krizhevsky Table 2)", 5),
    ILSVRCResult(2013, "ZFNet (Clarifai)", 11.7, True, RUSSAKOVSKY_2015,
                 "a tuned AlexNet (Zeiler & Fergus); an average of several networks", None),
    ILSVRCResult(2014, "GoogLeNet", 6.7, True, RUSSAKOVSKY_2015,
                 "team GoogLeNet; 7 models x 144 crops (Szegedy et al. 2015, Table 3)", 7),
    ILSVRCResult(2014, "VGG-16", 7.3, False, RUSSAKOVSKY_2015,
                 "runner-up (team VGG): 7 nets of several depths (Simonyan & Zisserman 2015, Table 6)", 7),
    ILSVRCResult(2015, "ResNet", 3.57, True, SZE_2017, "6 ResNets of different depths (He et al. 2016)", 6),
)

#: Top-5 error of one trained human annotator on 1,500 test images (Russakovsky et al. 2015, Sec. 6.4).
HUMAN_TOP5_ERROR = 5.1


def winners(results=ILSVRC_TOP5) -> tuple[ILSVRCResult, ...]:
    """Return the winning entry of each year, in year order.

    Examples
    --------
    >>> [r.year for r in winners()]
    [2010, 2011, 2012, 2013, 2014, 2015]
    """
    return tuple(sorted((r for r in results if r.winner), key=lambda r: r.year))


def result(network: str, results=ILSVRC_TOP5) -> ILSVRCResult:
    """Return the entry of ``network`` (as spelled in ``ILSVRC_TOP5``).

    Examples
    --------
    >>> result("AlexNet").top5_error
    16.4
    """
    for r in results:
        if r.network == network:
            return r
    raise ValueError(f"network must be one of {[r.network for r in results]}; got {network!r}")
