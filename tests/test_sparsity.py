"""cnnlib.sparsity: pruning masks, fine-tuning that keeps zeros, activation zeros, compressed formats."""

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from cnnlib import models, nn
from cnnlib.sparsity import (
    MaskedOptimizer,
    activation_sparsity,
    break_even_density,
    csc,
    csr,
    dense_bits,
    magnitude_mask,
    prune,
    rlc_encode,
    structured_mask,
    weight_layers,
    weight_sparsity,
)
from cnnlib.train import SGD, Adam, accuracy, iterative_pruning

# -- pruning --------------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 60), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_magnitude_mask_prunes_the_smallest_magnitudes(n, sparsity, seed):
    w = np.random.default_rng(seed).standard_normal(n)
    mask = magnitude_mask(w, sparsity)
    assert np.sum(~mask) == round(sparsity * n)
    if mask.any() and (~mask).any():
        assert np.abs(w[mask]).min() >= np.abs(w[~mask]).max()  # by sorting: no kept weight is smaller


def test_magnitude_mask_keeps_the_shape_and_breaks_ties_by_position():
    mask = magnitude_mask(np.ones((2, 3)), 0.5)
    assert mask.shape == (2, 3)
    assert mask.tolist() == [[False, False, False], [True, True, True]]


@pytest.mark.parametrize("structure, axis", [("filter", 0), ("channel", 1)])
def test_structured_mask_removes_whole_filters_or_channels_by_l1_norm(structure, axis):
    w = np.random.default_rng(1).standard_normal((8, 6, 3, 3))
    mask = structured_mask(w, 0.5, structure)
    norms = [np.abs(np.take(w, i, axis=axis)).sum() for i in range(w.shape[axis])]  # a loop, as reference
    removed = np.sort(np.argsort(norms)[: w.shape[axis] // 2])
    kept_groups = [np.take(mask, i, axis=axis) for i in range(w.shape[axis])]
    assert all(g.all() or not g.any() for g in kept_groups)  # a group is kept or removed as a whole
    assert_array_equal(np.flatnonzero([not g.any() for g in kept_groups]), removed)
    assert structured_mask(w[:, :, 0, 0], 0.5, structure).shape == (8, 6)


def test_prune_global_uses_one_threshold_across_layers():
    net = models.lenet5(seed=3, dtype=np.float64)
    dense = {name: layer.w.copy() for name, layer in weight_layers(net).items()}
    masks = prune(net, 0.8, scope="global")
    kept = np.concatenate([np.abs(dense[n][m]) for n, m in masks.items()])
    removed = np.concatenate([np.abs(dense[n][~m]) for n, m in masks.items()])
    assert kept.min() >= removed.max()
    total = sum(w.size for w in dense.values())
    assert weight_sparsity(net)["total"] == pytest.approx(round(0.8 * total) / total)
    for name, layer in weight_layers(net).items():
        assert_array_equal(layer.w, dense[name] * masks[name])


def test_prune_per_layer_and_structured_on_chosen_layers():
    net = models.lenet5(seed=0)
    prune(net, 0.5)
    assert all(v == 0.5 for v in weight_sparsity(net).values())
    net = models.lenet5(seed=0)
    masks = prune(net, 0.25, structure="filter", layers=["c3.w"])
    assert list(masks) == ["c3.w"] and int((~masks["c3.w"]).all(axis=(1, 2, 3)).sum()) == 4
    assert weight_sparsity(net)["c1.w"] == 0


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(sparsity=1.5), ValueError, r"sparsity must be in \[0, 1\].*got 1.5"),
        (dict(sparsity="half"), TypeError, "sparsity must be a number"),
        (dict(sparsity=0.5, structure="row"), ValueError, "structure must be 'unstructured', 'filter' or 'channel'"),
        (dict(sparsity=0.5, scope="net"), ValueError, "scope must be 'layer' or 'global'"),
        (dict(sparsity=0.5, structure="filter", scope="global"), ValueError, "scope='global' needs structure"),
        (dict(sparsity=0.5, layers=["c2.w"]), ValueError, r"layers must name weights .* unknown \['c2.w'\]"),
    ],
)
def test_prune_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        prune(models.lenet5(), **kwargs)


def test_structured_mask_bad_arguments():
    with pytest.raises(ValueError, match=r"w must be a 4-D CONV weight .* got shape \(3,\)"):
        structured_mask(np.ones(3), 0.5)
    with pytest.raises(ValueError, match="structure must be 'filter' or 'channel'"):
        structured_mask(np.ones((2, 2)), 0.5, "kernel")


# -- fine-tuning keeps the zeros ------------------------------------------------------------------


def blobs(n, seed):
    """Two classes of 16 features: the first half or the second half bright, plus noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.normal(0, 0.3, (n, 16))
    x[y == 0, :8] += 1
    x[y == 1, 8:] += 1
    return x, y


def mlp(seed=0):
    return nn.Sequential(("h", nn.Linear(16, 32, seed=seed, dtype=np.float64)), ("a", nn.ReLU()),
                         ("o", nn.Linear(32, 2, seed=seed + 1, dtype=np.float64)))


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
                                  lambda p: Adam(p, lr=0.01, weight_decay=1e-3)])
def test_masked_optimizer_keeps_pruned_weights_exactly_zero(make):
    from cnnlib.train import train

    net = mlp()
    masks = prune(net, 0.7)
    before = {k: v.copy() for k, v in net.parameters().items()}
    opt = MaskedOptimizer(make(net.parameters()), masks)
    train(net, *blobs(200, 0), epochs=3, optimizer=opt, batch_size=16, progress=False)
    for name, mask in masks.items():
        w = net.parameters()[name]
        assert np.all(w[~mask] == 0)
        assert not np.array_equal(w[mask], before[name][mask])  # the kept weights were trained
    assert opt.lr == opt.optimizer.lr
    opt.lr = 0.5
    assert opt.optimizer.lr == 0.5
    with pytest.raises(ValueError, match=r"masks must name parameters of the optimizer; got unknown \['x.w'\]"):
        MaskedOptimizer(SGD(net.parameters()), {"x.w": np.ones(1, bool)})


def test_iterative_pruning_nests_masks_and_keeps_accuracy():
    net = mlp()
    from cnnlib.train import train

    train(net, *blobs(300, 0), epochs=5, optimizer=SGD(net.parameters(), lr=0.1), batch_size=16, progress=False)
    steps = iterative_pruning(net, (0.5, 0.8, 0.9), *blobs(300, 0), epochs=[2, 2, 3], batch_size=16,
                              make_optimizer=lambda p: SGD(p, lr=0.05), scope="global", progress=False)
    assert [s["sparsity"] for s in steps] == [0.5, 0.8, 0.9]
    for a, b in zip(steps, steps[1:], strict=False):
        for name in a["masks"]:
            assert not np.any(b["masks"][name] & ~a["masks"][name])  # a pruned weight never returns
    assert len(steps[2]["loss"]) == 3
    assert weight_sparsity(net)["total"] == pytest.approx(0.9, abs=1e-3)
    assert accuracy(net, *blobs(200, 5)) > 0.95
    with pytest.raises(ValueError, match="sparsities must not decrease"):
        iterative_pruning(net, (0.5, 0.4), *blobs(10, 0), epochs=1, make_optimizer=SGD)
    with pytest.raises(ValueError, match=r"epochs must be an int or one per sparsity \(2\); got 3"):
        iterative_pruning(net, (0.5, 0.6), *blobs(10, 0), epochs=[1, 1, 1], make_optimizer=SGD)


# -- activation sparsity --------------------------------------------------------------------------


def test_activation_sparsity_counts_the_zeros_of_each_layer():
    net = models.lenet5(seed=0, activation="relu", dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((7, 1, 32, 32))
    s = activation_sparsity(net, x, batch_size=3)
    out, expected = x, {}
    for name, layer in net.children():  # the reference: one forward pass, layer by layer
        out = layer(out)
        expected[name] = np.mean(out == 0)
    assert list(s) == ["input", *expected]
    for name, value in expected.items():
        assert s[name] == pytest.approx(value)
    assert s["a1"] > 0.2 and s["c1"] == 0
    tanh = activation_sparsity(models.lenet5(seed=0, dtype=np.float64), x)
    assert tanh["a1"] == tanh["a3"] == tanh["a5"] == 0


# -- compressed formats ---------------------------------------------------------------------------


def sparse_matrix(rows, cols, density, seed):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((rows, cols)) < density, rng.integers(-9, 10, (rows, cols)), 0)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.floats(0, 1), st.integers(0, 2**32 - 1))
def test_csr_and_csc_match_scipy_and_round_trip(rows, cols, density, seed):
    m = sparse_matrix(rows, cols, density, seed)
    a, ref = csr(m), scipy.sparse.csr_matrix(m)
    ref.eliminate_zeros()
    assert_array_equal(a.pointers, ref.indptr)
    assert_array_equal(a.indices, ref.indices)
    assert_array_equal(a.values, ref.data)
    b, ref = csc(m), scipy.sparse.csc_matrix(m)
    ref.eliminate_zeros()
    assert_array_equal(b.pointers, ref.indptr)
    assert_array_equal(b.indices, ref.indices)
    assert_array_equal(b.values, ref.data)
    assert_array_equal(a.to_dense(), m)
    assert_array_equal(b.to_dense(), m)


def test_csr_bits_by_hand():
    m = sparse_matrix(120, 400, 0.1, 0)  # LeNet-5's f5 shape
    nnz = int(np.count_nonzero(m))
    assert csr(m).bits() == nnz * (16 + 9) + 121 * 16  # 9-bit column index, 16-bit pointers (48,000 entries)
    assert csc(m).bits() == nnz * (16 + 7) + 401 * 16  # 7-bit row index
    assert csr(m).bits(value_bits=8, index_bits=4, pointer_bits=20) == nnz * 12 + 121 * 20
    assert dense_bits(m.shape, 8) == 120 * 400 * 8


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_break_even_density_is_where_the_format_stops_paying(fmt):
    shape = (30, 50)
    d = break_even_density(fmt, shape)
    encode = csr if fmt == "csr" else csc
    for nnz in range(0, shape[0] * shape[1] + 1, 25):
        m = np.zeros(shape)
        m.flat[:nnz] = 1.0
        smaller = encode(m).bits() < dense_bits(shape)
        assert smaller == (nnz / m.size < d)


def rlc_reference(x, max_run=31):
    """A plain loop: count zeros up to max_run, then the next value is the level; the last value ends a pair."""
    runs, levels, run = [], [], 0
    for i, v in enumerate(x):
        if v == 0 and run < max_run and i != len(x) - 1:
            run += 1
        else:
            runs.append(run)
            levels.append(v)
            run = 0
    return runs, levels


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.just(0), st.integers(-5, 5)), min_size=1, max_size=200),
       st.integers(0, 80), st.integers(1, 6))
def test_rlc_matches_a_loop_and_round_trips(values, zeros, run_bits):
    x = np.array(values[: len(values) // 2] + [0] * zeros + values[len(values) // 2 :], dtype=np.int16)
    code = rlc_encode(x, run_bits)
    runs, levels = rlc_reference(x.tolist(), 2**run_bits - 1)
    assert code.runs.tolist() == runs and code.levels.tolist() == levels
    assert_array_equal(code.decode(), x)
    assert code.decode().dtype == np.int16
    assert code.bits() == 64 * -(-len(runs) // 3)


def test_rlc_codes_long_runs_as_eyeriss_does():
    x = np.zeros(70)
    x[40] = 2.5
    code = rlc_encode(x)
    # 40 zeros: a full run of 31 zeros whose level is the 32nd zero, then 8 zeros and 2.5;
    # the 29 zeros at the end: 28 zeros and the last zero as level
    assert code.runs.tolist() == [31, 8, 28] and code.levels.tolist() == [0, 2.5, 0]
    assert code.bits() == 64  # three pairs fit one 64-bit word
    assert_allclose(rlc_encode(x.reshape(7, 10)).decode(), x)


@pytest.mark.parametrize("density, smaller", [(0.70, True), (0.80, False)])
def test_rlc_break_even_density_on_random_activations(density, smaller):
    rng = np.random.default_rng(0)
    x = np.where(rng.random(30_000) < density, rng.integers(1, 100, 30_000), 0)
    assert break_even_density("rlc") == 0.75
    assert (rlc_encode(x).bits() < dense_bits(x.shape, 16)) == smaller


def test_compressed_format_bad_arguments():
    with pytest.raises(ValueError, match=r"matrix must be a 2-D array \(rows, cols\); got shape \(3,\)"):
        csr(np.ones(3))
    with pytest.raises(ValueError, match="data must hold at least one value"):
        rlc_encode(np.array([]))
    with pytest.raises(ValueError, match="fmt must be 'csr', 'csc' or 'rlc'; got 'coo'"):
        break_even_density("coo", (2, 2))
    with pytest.raises(ValueError, match=r"shape must be \(rows, cols\) for csr"):
        break_even_density("csr")
    with pytest.raises(ValueError, match=r"word_bits must hold pairs_per_word pairs: 3 x \(5 \+ 32\) > 64"):
        rlc_encode(np.ones(3)).bits(level_bits=32)


# -- the shipped pruned LeNet-5 -------------------------------------------------------------------


def test_the_shipped_pruned_lenet5_is_sparse_and_as_accurate_as_the_dense_one():
    from cnnlib.data import load_mnist, load_npz
    from cnnlib.train import lenet5_split

    images, labels = load_mnist()
    _, _, test = lenet5_split(labels.astype(np.int64))
    pruned, dense = models.lenet5(pretrained="pruned"), models.lenet5(pretrained=True)
    sparsity = weight_sparsity(pruned)
    assert sparsity["total"] >= 0.9
    acc = {name: np.mean(net.predict(images[test]) == labels[test]) for name, net in
           (("pruned", pruned), ("dense", dense))}
    assert acc["pruned"] >= acc["dense"] - 0.01
    stored = load_npz("lenet5_pruned.npz")
    assert acc["pruned"] == pytest.approx(float(stored["history_test_accuracy"]), abs=1e-3)
    assert acc["dense"] == pytest.approx(float(stored["history_dense_test_accuracy"]))
    assert pruned["f5"].w.dtype == np.float32 and stored["f5.w"].dtype == np.float32
    with pytest.raises(ValueError, match="pretrained must be False, True or 'pruned'; got 'sparse'"):
        models.lenet5(pretrained="sparse")


def test_the_pruning_command_reproduces_the_shipped_first_epoch(tmp_path):
    """`python -m cnnlib.train lenet5-pruned` is the recipe behind data/lenet5_pruned.npz: its first
    step's first epoch (the cosine schedule starts at the same rate whatever the epoch count)
    gives the shipped file's minibatch losses again."""
    import subprocess
    import sys

    from cnnlib.data import load_npz

    out = tmp_path / "pruned.npz"
    res = subprocess.run([sys.executable, "-m", "cnnlib.train", "lenet5-pruned", "--steps", "1", "--epochs", "1",
                          "--quiet", "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "50.0% of the CONV and FC weights are zero" in res.stdout and f"wrote {out}" in res.stdout
    shipped = load_npz("lenet5_pruned.npz")
    with np.load(out, allow_pickle=False) as fresh:
        n = len(fresh["history_batch_loss"])
        assert n == 3500 // 64 + 1
        assert_allclose(fresh["history_batch_loss"], shipped["history_batch_loss"][:n], rtol=1e-9)
        assert fresh["history_dense_test_accuracy"] == shipped["history_dense_test_accuracy"]
        assert set(fresh.files) == set(shipped)


def test_a_corrupted_pruned_file_is_refused_by_name(tmp_path):
    from cnnlib.data import DATA_DIR, load_npz

    corrupt = bytearray((DATA_DIR / "lenet5_pruned.npz").read_bytes())
    corrupt[100] ^= 0xFF
    (tmp_path / "lenet5_pruned.npz").write_bytes(bytes(corrupt))
    with pytest.raises(ValueError, match=r"lenet5_pruned.npz is corrupted: its sha256 is"):
        load_npz("lenet5_pruned.npz", tmp_path)
