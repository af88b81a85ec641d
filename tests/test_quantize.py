"""cnnlib.quantize against second implementations written here.

The integer path is checked bit for bit against a plain reference: Python integers and
``fractions.Fraction`` for every rounding (round half up, floor(v + 1/2)), explicit loops for
the convolution, and the network re-run stage by stage from the stored integer parameters.
"""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cnnlib.activations import tanh
from cnnlib.data import load_mnist
from cnnlib.models import lenet5
from cnnlib.models.lenet import mnist_input
from cnnlib.nn import Conv2d, Linear
from cnnlib.quantize import (
    FakeQuant,
    FakeQuantWeights,
    calibrate,
    check_bits,
    fake_quantize_model,
    qparams,
    quantize_model,
    quantize_multiplier,
    requantize,
    storage_dtype,
    to_integer,
)
from cnnlib.quantize.integer import activation_table, conv2d_int, linear_int, pool2d_int
from cnnlib.quantize.model import InputStage, PoolStage, TableStage, WeightedStage
from cnnlib.train import SGD, lenet5_split, train


@pytest.fixture(scope="module")
def digits():
    images, labels = load_mnist()
    fit, val, test = lenet5_split(labels.astype(np.int64))
    return images, labels.astype(np.int64), fit, val, test


@pytest.fixture(scope="module")
def float_model():
    return lenet5(pretrained=True)


def round_half_up(v: Fraction) -> int:
    """floor(v + 1/2) in exact arithmetic."""
    return int((v + Fraction(1, 2)).__floor__())


# -- affine quantization ----------------------------------------------------------------------------

@pytest.mark.parametrize("bits", [1, 17, 0, -3])
def test_bits_outside_2_to_16_are_refused(bits):
    with pytest.raises(ValueError, match=rf"bits must be an int in 2 \.\.\. 16; got {bits}"):
        check_bits(bits)


@pytest.mark.parametrize("bits", [8.0, True, "8"])
def test_bits_must_be_an_int(bits):
    with pytest.raises(TypeError, match="bits must be an int"):
        check_bits(bits)


def test_storage_dtype_is_the_smallest_int_type():
    assert [storage_dtype(b, True) for b in (2, 8, 9, 16)] == [np.int8, np.int8, np.int16, np.int16]
    assert [storage_dtype(b, False) for b in (2, 8, 9, 16)] == [np.uint8, np.uint8, np.uint16, np.uint16]


@pytest.mark.parametrize("bits", range(2, 17))
@pytest.mark.parametrize("symmetric", [False, True])
def test_quantize_rounds_to_the_nearest_level_and_zero_is_exact(bits, symmetric):
    rng = np.random.default_rng(bits)
    x = rng.normal(0.3, 1.0, 2000)
    qp = calibrate(x, bits, symmetric=symmetric)
    q = qp.quantize(x)
    assert q.dtype == storage_dtype(bits, symmetric)
    assert q.min() >= qp.qmin and q.max() <= qp.qmax
    levels = qp.dequantize(np.arange(qp.qmin, qp.qmax + 1))
    above = np.clip(np.searchsorted(levels, x), 1, levels.size - 1)  # reference: the two levels around x
    below_is_nearer = np.abs(x - levels[above - 1]) <= np.abs(levels[above] - x)
    nearest = np.where(below_is_nearer, levels[above - 1], levels[above])
    step = float(qp.scale)
    clear = np.abs(np.abs(x - nearest) - step / 2) > 1e-4 * step  # not within 1e-4 step of a tie (TIE)
    np.testing.assert_allclose(qp.dequantize(q)[clear], nearest[clear], atol=1e-12)
    assert np.abs(qp.dequantize(q) - x).max() <= step * (0.5 + 1e-4)  # no value is clipped
    assert qp.dequantize(qp.quantize(0.0)) == 0.0
    if symmetric:
        assert int(qp.zero_point) == 0 and qp.qmin == -qp.qmax == -(2 ** (bits - 1) - 1)
    else:
        assert (qp.qmin, qp.qmax) == (0, 2**bits - 1)


def test_qparams_of_lenet5_input_range():
    qp = qparams(-0.1, 1.175, 8, symmetric=False)
    assert np.isclose(float(qp.scale), 0.005) and int(qp.zero_point) == 20


def test_asymmetric_range_is_widened_to_contain_zero():
    qp = qparams(0.5, 2.0, 8, symmetric=False)
    assert int(qp.zero_point) == 0 and np.isclose(float(qp.scale), 2.0 / 255)


def test_per_channel_equals_per_tensor_of_each_channel():
    w = np.random.default_rng(0).normal(size=(5, 3, 2, 2)) * np.arange(1, 6)[:, None, None, None]
    pc = calibrate(w, 4, symmetric=True, per_channel=True)
    for m in range(5):
        one = calibrate(w[m], 4, symmetric=True)
        assert pc.scale[m] == one.scale
        np.testing.assert_array_equal(pc.quantize(w)[m], one.quantize(w[m]))
    with pytest.raises(ValueError, match="M = 5 channels"):
        pc.quantize(w[:3])


def test_percentile_calibration_uses_the_percentiles():
    x = np.random.default_rng(1).standard_cauchy(5000)
    qp = calibrate(x, 8, symmetric=False, method="percentile", percentile=99.0)
    lo, hi = min(np.percentile(x, 1.0), 0), max(np.percentile(x, 99.0), 0)
    assert np.isclose(float(qp.scale), (hi - lo) / 255)
    assert float(qp.scale) < float(calibrate(x, 8, symmetric=False).scale) / 10


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(x=[]), ValueError, "at least one value"),
    (dict(method="mean"), ValueError, "method must be"),
    (dict(percentile=40), ValueError, "percentile must be"),
    (dict(x=["a"]), TypeError, "x must hold real numbers"),
])
def test_calibrate_bad_input(kwargs, error, match):
    args = dict(x=[1.0, 2.0], bits=8, symmetric=False) | kwargs
    with pytest.raises(error, match=match):
        calibrate(**args)


def test_constant_tensor_gets_a_usable_scale():
    qp = calibrate(np.zeros(10), 8, symmetric=True)
    assert float(qp.scale) == 1.0 and (qp.quantize(np.zeros(3)) == 0).all()


# -- fixed-point multiplier and requantization ----------------------------------------------------

@given(st.floats(min_value=2.0**-30, max_value=2.0**20, allow_nan=False))
def test_quantize_multiplier_is_m_rounded_to_31_bits(M):
    M0, shift = quantize_multiplier(M)
    M0, shift = int(M0), int(shift)
    assert 2**30 <= M0 < 2**31 and shift >= 1
    exact = Fraction(M) * 2**shift  # reference: the nearest integer to M 2^shift
    assert abs(M0 - exact) <= Fraction(1, 2) or M0 == 2**30  # 2^30 when the mantissa rounded up
    assert abs(Fraction(M0, 2**shift) - Fraction(M)) <= Fraction(M) * Fraction(1, 2**31)


def test_quantize_multiplier_bad_input():
    for M in (0.0, -1.0, np.inf, 2.0**30):
        with pytest.raises(ValueError, match="M must be finite"):
            quantize_multiplier(M)


@given(st.lists(st.integers(-(2**31), 2**31 - 1), min_size=1, max_size=30),
       st.floats(min_value=1e-5, max_value=4.0), st.integers(2, 16))
def test_requantize_is_bit_exact_against_fractions(acc, M, bits):
    out = qparams(-3.0, 5.0, bits, symmetric=False)
    M0, shift = quantize_multiplier(M)
    got = requantize(np.array([acc], dtype=np.int64), M0, shift, out)
    ref = [min(max(round_half_up(Fraction(a * int(M0), 2 ** int(shift))) + int(out.zero_point), out.qmin),
               out.qmax) for a in acc]
    assert got.dtype == out.dtype and got[0].tolist() == ref


def test_requantize_per_channel_uses_each_channels_multiplier():
    acc = np.array([[[100, -100]], [[7, 8]]], dtype=np.int32).transpose(0, 2, 1)  # (N, M, 1) = (2, 2, 1)
    M0, shift = quantize_multiplier(np.array([0.5, 0.125]))
    out = qparams(-1000, 1000, 16, symmetric=True)
    assert requantize(acc, M0, shift, out)[..., 0].tolist() == [[50, -12], [4, 1]]  # -12.5 -> -12 (half up)


# -- integer layers against loops ------------------------------------------------------------------

def conv_reference(q_x, z_x, q_w, q_b, stride, padding):
    """The 7 loops in Python integers; padding is the real zero, code z_x."""
    N, C, H, W = q_x.shape
    M, _, R, S = q_w.shape
    E, F = (H + 2 * padding - R) // stride + 1, (W + 2 * padding - S) // stride + 1
    out = np.zeros((N, M, E, F), dtype=object)
    for n in range(N):
        for m in range(M):
            for e in range(E):
                for f in range(F):
                    total = int(q_b[m])
                    for c in range(C):
                        for r in range(R):
                            for s in range(S):
                                i, j = e * stride + r - padding, f * stride + s - padding
                                x = int(q_x[n, c, i, j]) if 0 <= i < H and 0 <= j < W else z_x
                                total += (x - z_x) * int(q_w[m, c, r, s])
                    out[n, m, e, f] = total
    return out


@pytest.mark.parametrize("stride, padding, dtype", [(1, 0, np.int32), (2, 1, np.int32), (1, 2, np.int64)])
def test_conv2d_int_matches_loops(stride, padding, dtype):
    rng = np.random.default_rng(stride + padding)
    q_x = rng.integers(0, 256, (2, 3, 7, 6)).astype(np.uint8)
    q_w = rng.integers(-127, 128, (4, 3, 3, 2)).astype(np.int8)
    q_b = rng.integers(-(10**6), 10**6, 4)
    got = conv2d_int(q_x, 37, q_w, q_b, stride=stride, padding=padding, dtype=dtype)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, conv_reference(q_x, 37, q_w, q_b, stride, padding).astype(np.int64))


def test_linear_int_matches_loops():
    rng = np.random.default_rng(3)
    q_x = rng.integers(0, 2**12, (3, 20)).astype(np.uint16)
    q_w = rng.integers(-2047, 2048, (5, 20)).astype(np.int16)
    q_b = rng.integers(-(10**9), 10**9, 5)
    ref = [[int(q_b[m]) + sum((int(q_x[n, k]) - 2000) * int(q_w[m, k]) for k in range(20)) for m in range(5)]
           for n in range(3)]
    assert linear_int(q_x, 2000, q_w, q_b, dtype=np.int64).tolist() == ref


@pytest.mark.parametrize("kind", ["avg", "max"])
def test_pool2d_int_matches_loops(kind):
    q_x = np.random.default_rng(4).integers(0, 256, (2, 3, 6, 6)).astype(np.uint8)
    got = pool2d_int(q_x, 2, kind)
    assert got.dtype == np.uint8
    for n, c, e, f in np.ndindex(got.shape):
        window = [int(v) for v in q_x[n, c, 2 * e : 2 * e + 2, 2 * f : 2 * f + 2].ravel()]
        ref = max(window) if kind == "max" else round_half_up(Fraction(sum(window), 4))
        assert got[n, c, e, f] == ref


def test_activation_table_entries():
    in_q, out_q = qparams(-3, 3, 6, symmetric=False), qparams(-1, 1, 5, symmetric=False)
    table = activation_table(tanh, in_q, out_q)
    assert table.size == 64 and table.dtype == np.uint8
    for q in range(64):
        real = float(in_q.scale) * (q - int(in_q.zero_point))
        ref = round_half_up(Fraction(np.tanh(real)) / Fraction(float(out_q.scale))) + int(out_q.zero_point)
        assert table[q] == min(max(ref, 0), 31)


# -- the whole network, bit for bit ----------------------------------------------------------------

def reference_network(net, digits):
    """Re-run an IntegerLeNet5 from its stored integer parameters with the loops above, stage by stage.

    Returns a dict of every stage's output codes as int64 arrays.
    """
    def requant(acc, M0, shift, out):
        M0, shift = np.broadcast_to(M0, (acc.shape[1],)), np.broadcast_to(shift, (acc.shape[1],))
        flat = np.empty(acc.shape, dtype=np.int64)
        for idx in np.ndindex(acc.shape):
            m = idx[1]
            v = round_half_up(Fraction(int(acc[idx]) * int(M0[m]), 2 ** int(shift[m]))) + int(out.zero_point)
            flat[idx] = min(max(v, out.qmin), out.qmax)
        return flat

    q = digits.astype(np.int64)
    codes = {}
    for stage in net.stages:
        if isinstance(stage, InputStage):
            padded = np.zeros((len(q), 1, 32, 32), dtype=np.int64)
            padded[:, 0, 2:30, 2:30] = q
            q = requant(padded - int(stage.digits.zero_point), stage.M0, stage.shift, stage.out)
        elif isinstance(stage, WeightedStage):
            if stage.q_w.ndim == 4:
                acc = conv_reference(q, stage.z_x, stage.q_w, stage.q_b, stage.stride, stage.padding)
            else:
                acc = np.array([[int(b) + sum((int(v) - stage.z_x) * int(w) for v, w in zip(x, row, strict=True))
                                 for b, row in zip(stage.q_b, stage.q_w, strict=True)] for x in q], dtype=object)
            if stage.acc_dtype == np.int32:  # the int32 accumulator never overflows
                assert np.abs(acc.astype(np.int64)).max() < 2**31
            q = requant(acc, stage.M0, stage.shift, stage.out)
        elif isinstance(stage, TableStage):
            real = float(stage.in_q.scale) * (q - int(stage.in_q.zero_point))
            steps = np.tanh(real) / float(stage.out.scale)  # half up, TIE = 5e-5 below a tie included
            q = np.clip(np.floor(steps + 0.50005) + int(stage.out.zero_point), stage.out.qmin,
                        stage.out.qmax).astype(np.int64)
        elif isinstance(stage, PoolStage):
            N, C, H, W = q.shape
            total = q.reshape(N, C, H // 2, 2, W // 2, 2).sum(axis=(3, 5))
            q = np.vectorize(lambda v: round_half_up(Fraction(int(v), 4)))(total).astype(np.int64)
        else:
            q = q.reshape(len(q), -1)
        codes[stage.name] = q
    return codes


@pytest.mark.parametrize("bits, per_channel", [(8, False), (8, True), (4, True), (16, False)])
def test_integer_lenet5_is_bit_exact_against_the_reference(digits, float_model, bits, per_channel):
    images, labels, fit, val, test = digits
    net = quantize_model(float_model, bits, images[val], per_channel=per_channel)
    sample = images[test[::500]]  # 2 digits
    got, ref = net.trace(sample), reference_network(net, sample)
    assert list(got) == list(ref)
    for name in got:
        assert np.issubdtype(got[name].dtype, np.integer), name
        np.testing.assert_array_equal(got[name].astype(np.int64), ref[name], err_msg=name)
    widths = {s.name: s.acc_dtype for s in net.weighted()}
    assert set(widths.values()) == ({np.dtype(np.int64)} if bits == 16 else {np.dtype(np.int32)})


def test_weights_and_activations_are_stored_in_the_smallest_types(digits, float_model):
    images, labels, fit, val, test = digits
    net = quantize_model(float_model, 8, images[val])
    codes = net.trace(images[test[:2]])
    assert all(s.q_w.dtype == np.int8 and s.q_b.dtype == np.int32 for s in net.weighted())
    assert all(codes[name].dtype == np.uint8 for name in codes)
    assert quantize_model(float_model, 12, images[val]).weighted()[0].q_w.dtype == np.int16


def test_8_bit_lenet5_within_half_a_point_of_float(digits, float_model):
    images, labels, fit, val, test = digits
    float_acc = np.mean(float_model.predict(images[test]) == labels[test])
    for per_channel in (False, True):
        net = quantize_model(float_model, 8, images[val], per_channel=per_channel)
        int_acc = np.mean(net.predict(images[test]) == labels[test])
        assert int_acc >= float_acc - 0.005, (per_channel, int_acc, float_acc)


def test_integer_network_agrees_with_its_fake_quantized_model(digits):
    """Same levels, same rounding: fed the same codes, a CONV/FC stage's output codes differ by at most 1,
    and only on exact ties that the Q31 multiplier breaks the other way; predictions agree."""
    images, labels, fit, val, test = digits
    fake = fake_quantize_model(lenet5(pretrained=True, dtype=np.float64), images[val], weight_bits=8,
                               activation_bits=8)
    net = to_integer(fake)
    sample = images[test[:200]]
    x = mnist_input(sample, np.float64)
    children = fake.children()
    for (name, module), (_, after) in zip(children, children[1:], strict=False):
        if isinstance(module, FakeQuantWeights):
            stage = net[name]
            got = stage(stage.in_q.quantize(x))
            x = after(module(x))
            diff = np.abs(got.astype(int) - after.qparams.quantize(x).astype(int))
            assert diff.max() <= 1 and diff.mean() < 0.01, name
        else:
            x = module(x)
    assert np.mean(fake.predict(sample) == net.predict(sample)) >= 0.99


def test_weight_bytes_counts_packed_weights_and_int32_biases(digits, float_model):
    images, labels, fit, val, test = digits
    weights = sum(p.size for k, p in float_model.parameters().items() if k.endswith(".w"))
    biases = sum(p.size for k, p in float_model.parameters().items() if k.endswith(".b"))
    assert (weights, biases) == (61_470, 236)
    for bits in (8, 4, 3):
        net = quantize_model(float_model, bits, images[val[:50]])
        packed = sum(-(-s.q_w.size * bits // 8) for s in net.weighted())
        assert net.weight_bytes() == packed + 4 * biases


def test_single_digit_and_model_left_unchanged(digits, float_model):
    images, labels, fit, val, test = digits
    before = {k: v.copy() for k, v in float_model.state().items()}
    net = quantize_model(float_model, 8, images[val[:50]])
    assert isinstance(net.predict(images[test[0]]), int)
    assert all(np.array_equal(before[k], v) for k, v in float_model.state().items())


# -- bad input -------------------------------------------------------------------------------------

@pytest.mark.parametrize("calibration, error, match", [
    (np.zeros((0, 28, 28), np.uint8), ValueError, "calibration must hold at least one digit"),
    (np.zeros((5, 28, 28)) + 0.5, TypeError, r"calibration must be uint8 .* scaled to 0 \.\.\. 1"),
    (np.zeros((5, 28, 28), np.int64), TypeError, "calibration must be uint8 grey levels"),
    (np.zeros((5, 32, 32), np.uint8), ValueError, r"calibration must be MNIST digits \(N, 28, 28\)"),
    (np.zeros((5, 1, 28, 28), np.uint8), ValueError, "got shape"),
])
def test_quantize_model_refuses_bad_calibration(float_model, calibration, error, match):
    with pytest.raises(error, match=match):
        quantize_model(float_model, 8, calibration)


@pytest.mark.parametrize("bits", [1, 17])
def test_quantize_model_refuses_bits_outside_2_to_16(digits, float_model, bits):
    images = digits[0]
    with pytest.raises(ValueError, match=rf"bits must be an int in 2 \.\.\. 16; got {bits}"):
        quantize_model(float_model, bits, images[:10])


def test_predict_refuses_images_that_are_not_grey_levels(digits, float_model):
    images = digits[0]
    net = quantize_model(float_model, 8, images[:20])
    with pytest.raises(TypeError, match=r"images must be uint8 .* scaled to 0 \.\.\. 1"):
        net.predict(images[:3] / 255)
    with pytest.raises(ValueError, match="images must be MNIST digits"):
        net.predict(images[:3, :20])
    with pytest.raises(TypeError, match="model must be a cnnlib LeNet5"):
        quantize_model(Conv2d(1, 2, 3), 8, images[:10])


# -- fake quantization and the straight-through estimator ------------------------------------------

def test_fake_quant_backward_passes_the_gradient_inside_the_range_only():
    layer = FakeQuant(qparams(-1.0, 1.0, 4, symmetric=False))
    layer.train()
    x = np.array([-2.0, -0.5, 0.1, 0.9, 3.0])
    layer(x)
    lo, hi = layer.lo, layer.hi
    np.testing.assert_array_equal(layer.backward(np.ones(5)), ((x >= lo) & (x <= hi)).astype(float))


@pytest.mark.parametrize("layer", [Conv2d(2, 3, 3, seed=1, dtype=np.float64), Linear(6, 4, seed=2, dtype=np.float64)])
def test_fake_quant_weights_forward_and_backward_use_the_rounded_weights(layer):
    x = np.random.default_rng(5).normal(size=(2, 2, 5, 5) if isinstance(layer, Conv2d) else (2, 6))
    layer.b[...] = np.arange(layer.b.size) * 0.1
    wrapped = FakeQuantWeights(layer, 3, per_channel=True).train()
    w_q = calibrate(layer.w, 3, symmetric=True, per_channel=True).fake_quantize(layer.w)
    reference = type(layer)(*((2, 3, 3) if isinstance(layer, Conv2d) else (6, 4)), dtype=np.float64)
    reference.w, reference.b = w_q, layer.b.copy()
    reference.train()
    np.testing.assert_allclose(wrapped(x), reference(x))
    dout = np.ones_like(reference(x))
    np.testing.assert_allclose(wrapped.backward(dout), reference.backward(dout))
    for name, g in reference.gradients().items():
        np.testing.assert_allclose(wrapped.gradients()[name], g)  # STE: the float weights get dL/dq
    assert wrapped.parameters()["w"] is layer.w  # the optimizer updates the float weights


def test_quantization_aware_fine_tuning_trains_the_float_weights(digits):
    images, labels, fit, val, test = digits
    model = lenet5(pretrained=True, dtype=np.float64)
    fake = fake_quantize_model(model, images[val], weight_bits=3, activation_bits=3)
    assert list(fake.state()) == list(model.state())
    sub = fit[::10]
    x, y = mnist_input(images[sub], np.float64), labels[sub]
    before = fake["f5"].w.copy()
    history = train(fake, x, y, epochs=2, optimizer=SGD(fake.parameters(), lr=0.003), progress=False, seed=0)
    assert history["loss"][1] < history["loss"][0]
    assert not np.array_equal(fake["f5"].w, before)
    net = to_integer(fake)  # the fine-tuned weights, integer-only
    np.testing.assert_array_equal(net["f5"].q_w, net["f5"].w_q.quantize(fake["f5"].w))


def test_to_integer_needs_both_kinds_quantized(digits, float_model):
    images = digits[0]
    with pytest.raises(ValueError, match="quantized activations"):
        to_integer(fake_quantize_model(float_model, images[:20], activation_bits=None))
    with pytest.raises(ValueError, match="float weights"):
        to_integer(fake_quantize_model(float_model, images[:20], weight_bits=None))
