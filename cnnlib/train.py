"""Training a network built from ``cnnlib.nn``: loss, optimizers, data split, augmentation, loop.

Small and honest: minibatch stochastic gradient descent with momentum (or Adam) on the
cross-entropy of the softmax, everything seeded, so the same command gives the same network.
The LeNet-5 recipe that produces ``data/lenet5.npz`` is one command::

    python -m cnnlib.train lenet5            # writes data/lenet5.npz (a few minutes on 2 cores)
    python -m cnnlib.train lenet5-pruned     # prunes it to data/lenet5_pruned.npz (about 2 minutes)

How a small-data CNN is made to generalise here: the 5,000 digits are split once, stratified
and seeded, into 4,000 for training and 1,000 for the final test; 500 of the 4,000 are held out
for validation (model selection: the epoch with the best validation accuracy is kept); the
training digits are randomly shifted, rotated and scaled a little each epoch (augmentation),
and weight decay keeps the weights small. The 1,000 test digits are used once, at the end.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from ._checks import as_float_array, as_int, check_ndim
from .sparsity import MaskedOptimizer, check_sparsity, prune, weight_sparsity

# -- loss -----------------------------------------------------------------------------------------

def cross_entropy(logits, labels):
    """Mean cross-entropy of softmax(logits) against integer labels, and its gradient.

    L = -(1/N) sum_n log softmax(z_n)[y_n], computed from the logits with the log-sum-exp
    trick (the largest logit is subtracted first), so it is finite for any logits.

    Parameters
    ----------
    logits : array (N, K)
        Class scores z of N samples (the last FC layer's outputs).
    labels : int array (N,)
        True classes y in 0 ... K-1.

    Returns
    -------
    loss : float
    dlogits : array (N, K)
        dL/dz = (softmax(z) - onehot(y)) / N.

    Examples
    --------
    >>> loss, d = cross_entropy(np.array([[1e4, 0.0], [0.0, 0.0]]), np.array([0, 1]))
    >>> round(loss, 4), d.round(2).tolist()
    (0.3466, [[0.0, 0.0], [0.25, -0.25]])
    """
    z = as_float_array(logits, "logits")
    check_ndim(z, 2, "logits", "(N, K)")
    y = np.asarray(labels)
    if y.shape != (z.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be an int array (N,) = ({z.shape[0]},); got {y.dtype} {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= z.shape[1]):
        raise ValueError(f"labels must be in 0 ... {z.shape[1] - 1}; got {y.min()} ... {y.max()}")
    shifted = z - z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = z.shape[0]
    loss = -log_p[np.arange(N), y].mean()
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return float(loss), dlogits / z.dtype.type(N)


# -- optimizers -----------------------------------------------------------------------------------

class SGD:
    """Stochastic gradient descent with momentum and weight decay, updating parameters in place.

    v <- momentum v - lr (g + weight_decay w);  w <- w + v

    Weight decay (an L2 penalty) applies to weights (parameters named "w": "conv1.w", or "w" for
    a bare layer), not to biases or batch-norm parameters.
    """

    def __init__(self, params: dict, lr=0.01, momentum=0.9, weight_decay=0.0):
        self.params, self.lr, self.momentum, self.weight_decay = params, lr, momentum, weight_decay
        self.velocity = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads: dict) -> None:
        """Apply one update with the gradients ``grads`` (named as the parameters)."""
        for name, p in self.params.items():
            g = _decayed(name, p, grads[name], self.weight_decay)
            v = self.velocity[name]
            v *= self.momentum
            v -= self.lr * g
            p += v


class Adam:
    """Adam (Kingma and Ba 2015): per-parameter step sizes from running moments of the gradient.

    Weight decay is added to the gradient of weights (parameters named "w"), as in SGD.
    """

    def __init__(self, params: dict, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        self.params, self.lr, self.betas, self.eps = params, lr, betas, eps
        self.weight_decay, self.t = weight_decay, 0
        self.m = {k: np.zeros_like(p) for k, p in params.items()}
        self.v = {k: np.zeros_like(p) for k, p in params.items()}

    def step(self, grads: dict) -> None:
        """Apply one update with the gradients ``grads`` (named as the parameters)."""
        self.t += 1
        b1, b2 = self.betas
        for name, p in self.params.items():
            g = _decayed(name, p, grads[name], self.weight_decay)
            m, v = self.m[name], self.v[name]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            m_hat, v_hat = m / (1 - b1**self.t), v / (1 - b2**self.t)
            p -= (self.lr * m_hat / (np.sqrt(v_hat) + self.eps)).astype(p.dtype, copy=False)


def _decayed(name, p, g, weight_decay):
    if g.shape != p.shape:
        raise ValueError(f"gradient of {name} must have the parameter's shape {p.shape}; got {g.shape}")
    is_weight = name.rpartition(".")[2] == "w"  # "conv1.w", or "w" for a bare layer
    return g + weight_decay * p if weight_decay and is_weight else g


# -- data -----------------------------------------------------------------------------------------

def stratified_split(labels, n_test, seed=0):
    """Split sample indices into train and test sets with the class proportions of ``labels``.

    Each class contributes round(n_test x its share) test samples (adjusted so they sum to
    ``n_test``), chosen at random with ``seed``.

    Parameters
    ----------
    labels : int array (N,)
    n_test : int
        Size of the test set, 1 ... N-1.
    seed : int

    Returns
    -------
    train, test : sorted int arrays of indices into labels

    Examples
    --------
    >>> labels = np.repeat(np.arange(10), 500)
    >>> train, test = stratified_split(labels, 1000)
    >>> len(train), len(test), np.bincount(labels[test]).tolist() == [100] * 10
    (4000, 1000, True)
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be a 1-D int array; got {labels.dtype} {labels.shape}")
    n_test = as_int(n_test, "n_test", 1)
    if n_test >= labels.size:
        raise ValueError(f"n_test must be smaller than the {labels.size} samples; got {n_test}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    share = counts * n_test / labels.size
    take = np.floor(share).astype(int)
    # give the remaining test slots to the classes with the largest remainders
    take[np.argsort(take - share, kind="stable")[: n_test - take.sum()]] += 1
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take,
                                                                                           strict=True)])
    return np.setdiff1d(np.arange(labels.size), test), np.sort(test)


def affine_warp(images, angle, zoom, shift):
    """Rotate, scale and shift each image about its centre (bilinear resampling, background 0).

    Parameters
    ----------
    images : array (N, H, W)
        Grey levels with background 0 (e.g. MNIST's 0-255).
    angle : array (N,)
        Rotation of each image in degrees (clockwise as displayed, rows going down).
    zoom : array (N,)
        Scale factor (> 1 enlarges).
    shift : array (N, 2)
        Shift (rows down, columns right) in pixels, applied after rotation and scaling.

    Returns
    -------
    float32 array (N, H, W)
        Pixels that come from outside the input are 0; values stay within the input's range.

    Examples
    --------
    >>> img = np.zeros((1, 5, 5)); img[0, 2, 2] = 1
    >>> np.argwhere(affine_warp(img, [0], [1], [[1, -2]])[0]).tolist()
    [[3, 0]]
    """
    x = as_float_array(images, "images").astype(np.float32)
    check_ndim(x, 3, "images", "(N, H, W)")
    N, H, W = x.shape
    angle, zoom = (np.broadcast_to(as_float_array(v, n), (N,)) for v, n in ((angle, "angle"), (zoom, "zoom")))
    shift = as_float_array(shift, "shift")
    if shift.shape != (N, 2):
        raise ValueError(f"shift must have shape (N, 2) = ({N}, 2); got {shift.shape}")
    theta = np.deg2rad(angle)[:, None, None]
    cos, sin = np.cos(theta) / zoom[:, None, None], np.sin(theta) / zoom[:, None, None]
    cy, cx = (H - 1) / 2, (W - 1) / 2
    r, c = np.mgrid[0:H, 0:W]
    # inverse mapping: where in the input each output pixel comes from
    dr, dc = r - cy - shift[:, 0, None, None], c - cx - shift[:, 1, None, None]
    src_r, src_c = cos * dr - sin * dc + cy, sin * dr + cos * dc + cx
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)))  # a ring of background for samples from outside
    r0, c0 = np.floor(src_r), np.floor(src_c)
    fr, fc = (src_r - r0).astype(np.float32), (src_c - c0).astype(np.float32)
    n = np.arange(N)[:, None, None]

    def pixel(rr, cc):
        return padded[n, np.clip(rr.astype(int) + 1, 0, H + 1), np.clip(cc.astype(int) + 1, 0, W + 1)]

    top = pixel(r0, c0) * (1 - fc) + pixel(r0, c0 + 1) * fc
    bottom = pixel(r0 + 1, c0) * (1 - fc) + pixel(r0 + 1, c0 + 1) * fc
    # each output is a weighted mean of inputs and background: clip away rounding beyond their range
    return np.clip(top * (1 - fr) + bottom * fr, min(x.min(initial=0), 0), max(x.max(initial=0), 0))


def random_affine(images, rng, max_shift=2.0, max_rotation=10.0, max_scale=0.1):
    """Data augmentation: shift, rotate and scale each image a little, at random (see :func:`affine_warp`).

    Each image gets its own shift (uniform in +-``max_shift`` pixels along each axis), rotation
    (+-``max_rotation`` degrees) and scale (1 +- ``max_scale``), drawn from ``rng``.

    Parameters
    ----------
    images : array (N, H, W)
    rng : numpy.random.Generator

    Returns
    -------
    float32 array (N, H, W)
    """
    N = len(images)
    angle = rng.uniform(-max_rotation, max_rotation, N)
    zoom = 1 + rng.uniform(-max_scale, max_scale, N)
    shift = rng.uniform(-max_shift, max_shift, (N, 2))
    return affine_warp(images, angle, zoom, shift)


# -- the loop -------------------------------------------------------------------------------------

def predict_logits(model, x, batch_size=500):
    """Class scores (N, K) of ``model`` in inference mode, computed in batches."""
    model.eval()
    return np.concatenate([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])


def accuracy(model, x, labels, batch_size=500) -> float:
    """Fraction of samples whose largest class score is the true label."""
    return float(np.mean(predict_logits(model, x, batch_size).argmax(axis=1) == labels))


def train(model, x, labels, *, epochs, optimizer, batch_size=64, seed=0, augment=None, val=None,
          schedule="cosine", progress=True):
    """Train ``model`` with minibatches; keep the parameters of the epoch with the best validation accuracy.

    Parameters
    ----------
    model : cnnlib.nn.Module
        Maps x to class scores (N, K).
    x : array (N, ...)
        Training inputs in the model's format, or raw samples that ``augment`` turns into them.
    labels : int array (N,)
    epochs : int
    optimizer : SGD or Adam
        Built on ``model.parameters()``; its ``lr`` is the initial learning rate.
    batch_size : int
    seed : int
        Seeds the shuffling and the augmentation.
    augment : callable (x_batch, rng) -> model input batch, optional
        Applied to every training minibatch (random transformations, preprocessing).
    val : (x_val, labels_val), optional
        Inputs in the model's format. If given, the parameters of the epoch with the best
        validation accuracy are restored at the end (model selection, early stopping).
    schedule : "cosine" or "constant"
        Learning rate per epoch: cosine decay from ``lr`` towards 0, or constant.
    progress : bool
        Show a tqdm progress bar over epochs (a widget in JupyterLab).

    Returns
    -------
    dict of arrays, one value per epoch
        "loss" (mean training loss), "train_accuracy" (on the augmented minibatches),
        "val_accuracy" (if ``val``), "seconds" (wall time of the epoch); "batch_loss" (the loss
        of every minibatch, in order); and "best_epoch" (0-based, the epoch whose parameters the
        model keeps).

    Notes
    -----
    BLAS is held to one thread while training: the matrices of a small CNN are too small to
    gain from threads (on a busy machine threads mostly wait for each other), and results are
    then bitwise the same whatever the machine's thread count.
    """
    from threadpoolctl import threadpool_limits
    from tqdm.auto import tqdm

    epochs, batch_size = as_int(epochs, "epochs", 1), as_int(batch_size, "batch_size", 1)
    if schedule not in ("cosine", "constant"):
        raise ValueError(f"schedule must be 'cosine' or 'constant'; got {schedule!r}")
    labels = np.asarray(labels)
    if labels.shape != (len(x),):
        raise ValueError(f"labels must have shape (N,) = ({len(x)},); got {labels.shape}")
    rng = np.random.default_rng(seed)
    base_lr = optimizer.lr
    history = {"loss": [], "train_accuracy": [], "val_accuracy": [], "seconds": [], "batch_loss": []}
    best, best_acc, best_epoch = None, -1.0, epochs - 1
    bar = tqdm(range(epochs), desc="epochs", disable=not progress)
    with threadpool_limits(limits=1, user_api="blas"):
        for epoch in bar:
            start = time.perf_counter()
            if schedule == "cosine":
                optimizer.lr = base_lr * 0.5 * (1 + np.cos(np.pi * epoch / epochs))
            model.train()
            order = rng.permutation(len(x))
            loss_sum, correct = 0.0, 0
            for i in range(0, len(x), batch_size):
                idx = order[i : i + batch_size]
                logits = model(augment(x[idx], rng) if augment is not None else x[idx])
                loss, dlogits = cross_entropy(logits, labels[idx])
                model.backward(dlogits)
                optimizer.step(model.gradients())
                loss_sum += loss * len(idx)
                history["batch_loss"].append(loss)
                correct += int(np.sum(logits.argmax(axis=1) == labels[idx]))
            history["loss"].append(loss_sum / len(x))
            history["train_accuracy"].append(correct / len(x))
            if val is not None:
                acc = accuracy(model, *val)
                history["val_accuracy"].append(acc)
                if acc > best_acc:
                    best_acc, best_epoch = acc, epoch
                    best = {k: p.copy() for k, p in model.state().items()}
            history["seconds"].append(time.perf_counter() - start)
            bar.set_postfix(loss=f"{history['loss'][-1]:.3f}", val=f"{best_acc:.3f}")
    bar.close()
    optimizer.lr = base_lr
    if best is not None:
        model.load_state(best)
    model.eval()
    return {**{k: np.asarray(v) for k, v in history.items()}, "best_epoch": np.asarray(best_epoch)}


# -- LeNet-5 on the course's MNIST digits ---------------------------------------------------------

#: The recipe behind data/lenet5.npz (chosen on the validation digits only).
LENET5_RECIPE = dict(epochs=30, batch_size=64, lr=0.05, momentum=0.9, weight_decay=5e-4, n_test=1000,
                     n_val=500)


def lenet5_split(labels, seed=0):
    """The fixed split of the 5,000 digits: (fit 3,500, val 500, test 1,000) index arrays.

    4,000 train / 1,000 test, stratified and seeded; the 500 validation digits (model
    selection) are taken, stratified, from the 4,000 training digits.
    """
    train_idx, test_idx = stratified_split(labels, LENET5_RECIPE["n_test"], seed)
    fit, val = stratified_split(labels[train_idx], LENET5_RECIPE["n_val"], seed)
    return train_idx[fit], train_idx[val], test_idx


def train_lenet5(seed=0, *, epochs=None, progress=True, activation="tanh", augment=True):
    """Train LeNet-5 on the course's MNIST digits with :data:`LENET5_RECIPE`.

    Parameters
    ----------
    seed : int
        Seeds the split, the initial weights, the shuffling and the augmentation (0 for the
        shipped data/lenet5.npz).
    epochs : int, optional
        Overrides the recipe's (for a short demonstration).
    progress : bool
    activation : str
        The network's activation (see :func:`cnnlib.models.lenet5`).
    augment : bool
        Randomly shift, rotate and scale the training digits (:func:`random_affine`); False
        trains on the digits as they are (the baseline that shows what augmentation buys).

    Returns
    -------
    model : LeNet-5, trained, in inference mode
    history : dict of arrays
        As returned by :func:`train`, plus "test_accuracy" (the 1,000 test digits, used once).
    """
    from .data import load_mnist
    from .models.lenet import lenet5, mnist_input

    r = LENET5_RECIPE
    images, labels = load_mnist()
    labels = labels.astype(np.int64)
    fit, val, test = lenet5_split(labels, seed)
    model = lenet5(seed=seed, activation=activation)
    optimizer = SGD(model.parameters(), lr=r["lr"], momentum=r["momentum"], weight_decay=r["weight_decay"])
    history = train(model, images[fit], labels[fit], epochs=epochs or r["epochs"], optimizer=optimizer,
                    batch_size=r["batch_size"], seed=seed, progress=progress,
                    augment=lambda batch, rng: mnist_input(random_affine(batch, rng) if augment else batch),
                    val=(mnist_input(images[val]), labels[val]))
    history["test_accuracy"] = np.asarray(accuracy(model, mnist_input(images[test]), labels[test]))
    return model, history


def iterative_pruning(model, sparsities, x, labels, *, epochs, make_optimizer, scope="layer",
                      **train_kwargs) -> list:
    """Han et al.'s recipe: prune to each sparsity in turn, fine-tuning after each step.

    Parameters
    ----------
    model : cnnlib.nn.Module
        A trained model; pruned and fine-tuned in place.
    sparsities : sequence of float
        Increasing fractions of weights to remove, e.g. (0.5, 0.75, 0.9). Each step prunes the
        surviving weights further (a pruned weight never comes back: each new mask is taken on
        the already-pruned weights).
    x, labels :
        Training data, as :func:`cnnlib.train.train` takes them.
    epochs : int or sequence of int
        Fine-tuning epochs after each pruning step.
    make_optimizer : callable (parameters) -> optimizer
        Builds a fresh optimizer for each step (e.g. ``lambda p: SGD(p, lr=0.01)``).
    scope : "layer" or "global"
        As in :func:`cnnlib.sparsity.prune` (unstructured).
    **train_kwargs
        Passed to :func:`train` (batch_size, seed, augment, val, progress, ...).

    Returns
    -------
    list of dict
        One per step: "sparsity" (the requested fraction), "masks", and the training history
        of its fine-tuning (as :func:`train` returns it).
    """
    sparsities = [check_sparsity(s) for s in sparsities]
    if any(b < a for a, b in zip(sparsities, sparsities[1:], strict=False)):
        raise ValueError(f"sparsities must not decrease; got {sparsities}")
    epochs = [epochs] * len(sparsities) if np.ndim(epochs) == 0 else list(epochs)
    if len(epochs) != len(sparsities):
        raise ValueError(f"epochs must be an int or one per sparsity ({len(sparsities)}); got {len(epochs)}")
    steps = []
    for sparsity, n in zip(sparsities, epochs, strict=True):
        masks = prune(model, sparsity, scope=scope)
        optimizer = MaskedOptimizer(make_optimizer(model.parameters()), masks)
        history = train(model, x, labels, epochs=n, optimizer=optimizer, **train_kwargs)
        steps.append({"sparsity": sparsity, "masks": masks, **history})
    return steps


#: The recipe behind data/lenet5_pruned.npz: Han et al.'s iterative pruning of data/lenet5.npz, one
#: global magnitude threshold over all CONV and FC weights, fine-tuned after each step.
LENET5_PRUNED_RECIPE = dict(sparsities=(0.5, 0.7, 0.8, 0.85, 0.88, 0.91), epochs=(3, 3, 3, 3, 3, 6),
                            batch_size=64, lr=0.01, momentum=0.9, weight_decay=5e-4)


def prune_lenet5(seed=0, *, steps=None, epochs=None, progress=True):
    """Prune the shipped LeNet-5 (data/lenet5.npz) with :data:`LENET5_PRUNED_RECIPE`, in float64.

    Each step removes the smallest weights (one threshold on |w| over all CONV and FC layers,
    :func:`cnnlib.sparsity.prune`) and fine-tunes the rest on the augmented training digits,
    keeping the epoch of best validation accuracy. For comparison, the same total number of
    epochs is also spent on one-shot pruning: the dense network pruned to the final sparsity at
    once, then fine-tuned.

    Parameters
    ----------
    seed : int
        Seeds the shuffling and the augmentation (0 for the shipped data/lenet5_pruned.npz).
    steps : int, optional
        Run only the first ``steps`` pruning steps (for a short check).
    epochs : int, optional
        Fine-tuning epochs of every step instead of the recipe's.
    progress : bool

    Returns
    -------
    model : LeNet-5 (float64), pruned and fine-tuned, in inference mode
    history : dict of arrays
        "batch_loss" and "loss", "val_accuracy" (per epoch, all steps in order);
        "step_sparsity", "step_val_accuracy", "step_test_accuracy" (after each step);
        "test_accuracy" (final), "dense_test_accuracy", "oneshot_test_accuracy".
    """
    from .data import load_mnist
    from .models.lenet import lenet5, mnist_input

    r = LENET5_PRUNED_RECIPE
    sparsities = r["sparsities"][: as_int(steps, "steps", 1) if steps is not None else None]
    step_epochs = [epochs or n for n in r["epochs"][: len(sparsities)]]
    images, labels = load_mnist()
    labels = labels.astype(np.int64)
    fit, val, test = lenet5_split(labels)
    x_val, x_test = mnist_input(images[val], np.float64), mnist_input(images[test], np.float64)

    def optimizer(params):
        return SGD(params, lr=r["lr"], momentum=r["momentum"], weight_decay=r["weight_decay"])

    kwargs = dict(batch_size=r["batch_size"], seed=seed, progress=progress, val=(x_val, labels[val]),
                  augment=lambda batch, rng: mnist_input(random_affine(batch, rng), np.float64))
    model = lenet5(pretrained=True, dtype=np.float64)
    dense_accuracy = accuracy(model, x_test, labels[test])
    steps_run, test_accuracies = [], []
    for sparsity, n in zip(sparsities, step_epochs, strict=True):
        steps_run += iterative_pruning(model, [sparsity], images[fit], labels[fit], epochs=n, scope="global",
                                       make_optimizer=optimizer, **kwargs)
        test_accuracies.append(accuracy(model, x_test, labels[test]))
    oneshot = lenet5(pretrained=True, dtype=np.float64)
    masks = prune(oneshot, sparsities[-1], scope="global")
    train(oneshot, images[fit], labels[fit], epochs=sum(step_epochs),
          optimizer=MaskedOptimizer(optimizer(oneshot.parameters()), masks), **kwargs)
    history = {key: np.concatenate([s[key] for s in steps_run])
               for key in ("batch_loss", "loss", "val_accuracy")}
    history.update(step_sparsity=np.asarray(sparsities), step_test_accuracy=np.asarray(test_accuracies),
                   step_val_accuracy=np.asarray([s["val_accuracy"].max() for s in steps_run]),
                   test_accuracy=np.asarray(test_accuracies[-1]),
                   dense_test_accuracy=np.asarray(dense_accuracy),
                   oneshot_test_accuracy=np.asarray(accuracy(oneshot, x_test, labels[test])))
    return model, history


def training_macs(model, in_shape, images) -> int:
    """Estimated MACs of training on ``images`` samples: forward + backward ~ 3 x forward MACs.

    The backward pass of a CONV/FC layer computes dL/dx and dL/dw, each as many MACs as the
    forward pass.
    """
    return 3 * model.counts(in_shape).macs * images


def _cmd_lenet5(args) -> None:
    from .data import DATA_DIR, sha256

    start = time.perf_counter()
    model, history = train_lenet5(args.seed, epochs=args.epochs, progress=not args.quiet)
    total = time.perf_counter() - start
    out = Path(args.out or DATA_DIR / "lenet5.npz")
    arrays = {**model.state(), **{f"history_{k}": v for k, v in history.items()},
              "history_total_seconds": np.asarray(total)}
    np.savez_compressed(out, **arrays)
    per_epoch = float(np.median(history["seconds"]))
    macs = training_macs(model, (1, 32, 32), 5000 - LENET5_RECIPE["n_test"] - LENET5_RECIPE["n_val"])
    print(f"test accuracy {history['test_accuracy']:.4f} (best epoch {int(history['best_epoch']) + 1}, "
          f"validation {history['val_accuracy'].max():.4f})")
    print(f"training time {total:.0f} s, median epoch {per_epoch:.1f} s, "
          f"{macs / 1e9:.2f} GMAC per epoch = {macs / per_epoch / 1e9:.2f} GMAC/s")
    print(f"wrote {out} (sha256 {sha256(out)})")


def _cmd_lenet5_repeats(args) -> None:
    from .data import DATA_DIR, sha256

    runs = {"seed": [], "test_accuracy": [], "val_accuracy": [], "best_epoch": []}
    for seed in range(1, args.repeats + 1):
        _, history = train_lenet5(seed, progress=not args.quiet)
        for key, value in (("seed", seed), ("test_accuracy", history["test_accuracy"]),
                           ("val_accuracy", history["val_accuracy"].max()),
                           ("best_epoch", history["best_epoch"])):
            runs[key].append(value)
        print(f"seed {seed}: test accuracy {history['test_accuracy']:.4f}", flush=True)
    baseline, history = train_lenet5(0, progress=not args.quiet, augment=False)
    acc = np.asarray(runs["test_accuracy"])
    print(f"{args.repeats} repeats: test accuracy {acc.mean():.4f} +- {acc.std(ddof=1):.4f} "
          f"(min {acc.min():.4f}); seed 0 without augmentation {history['test_accuracy']:.4f}")
    out = Path(args.out or DATA_DIR / "lenet5_repeats.npz")
    np.savez_compressed(out, **{f"repeat_{k}": np.asarray(v) for k, v in runs.items()},
                        **{f"no_augment.{k}": v for k, v in baseline.state().items()},
                        no_augment_test_accuracy=history["test_accuracy"])
    print(f"wrote {out} (sha256 {sha256(out)})")


def _cmd_lenet5_pruned(args) -> None:
    from .data import DATA_DIR, sha256

    start = time.perf_counter()
    model, history = prune_lenet5(args.seed, steps=args.steps, epochs=args.epochs, progress=not args.quiet)
    total = time.perf_counter() - start
    weights = {k: v.astype(np.float32) for k, v in model.state().items()}  # float32, as data/lenet5.npz
    model.load_state(weights)
    out = Path(args.out or DATA_DIR / "lenet5_pruned.npz")
    np.savez_compressed(out, **weights, **{f"history_{k}": v for k, v in history.items()},
                        history_total_seconds=np.asarray(total))
    print(f"{weight_sparsity(model)['total']:.1%} of the CONV and FC weights are zero; test accuracy "
          f"{history['test_accuracy']:.4f} (dense {history['dense_test_accuracy']:.4f}, one-shot pruning "
          f"{history['oneshot_test_accuracy']:.4f}); {total:.0f} s")
    print(f"wrote {out} (sha256 {sha256(out)})")


def main(argv=None) -> None:
    """``python -m cnnlib.train lenet5`` trains LeNet-5 and writes data/lenet5.npz;
    ``python -m cnnlib.train lenet5-repeats`` writes the generalisation evidence data/lenet5_repeats.npz;
    ``python -m cnnlib.train lenet5-pruned`` prunes data/lenet5.npz and writes data/lenet5_pruned.npz."""
    parser = argparse.ArgumentParser(prog="python -m cnnlib.train", description=main.__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lenet5", help="train LeNet-5 on data/mnist_5k.npz, write data/lenet5.npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, help=f"default: the recipe's {LENET5_RECIPE['epochs']}")
    p.add_argument("--out", help="output file (default: data/lenet5.npz)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_lenet5)
    p = sub.add_parser("lenet5-repeats", help="evidence: the recipe on other seeded splits, and without "
                       "augmentation; writes data/lenet5_repeats.npz")
    p.add_argument("--repeats", type=int, default=4, help="splits with seeds 1 ... repeats")
    p.add_argument("--out", help="output file (default: data/lenet5_repeats.npz)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_lenet5_repeats)
    p = sub.add_parser("lenet5-pruned", help="prune data/lenet5.npz iteratively (Han et al. 2015), write "
                       "data/lenet5_pruned.npz")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="run only the first STEPS pruning steps (default: all)")
    p.add_argument("--epochs", type=int, help="fine-tuning epochs of every step (default: the recipe's)")
    p.add_argument("--out", help="output file (default: data/lenet5_pruned.npz)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_lenet5_pruned)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
