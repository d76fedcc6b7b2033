"""Where successive halving and Hyperband judge trials, and the epochs a trial then trains on average."""

from __future__ import annotations

__all__ = [
    "COST_LIMIT",
    "MAX_CHECKS_PER_EPOCH",
    "MIN_CHECK_IMAGES",
    "REDUCTION_FACTOR",
    "default_checks_per_epoch",
    "expected_epochs",
    "top_rung",
]

# A rung keeps the best 1/REDUCTION_FACTOR of the trials that reach it (the default of --reduction-factor).
REDUCTION_FACTOR = 4
# Halving stops a trial whose time to a rung is over this many times the median of the others' there (the
# default of --cost-limit; search/halving.py). It stopped 1 of 150 trials in the cnn seeds measured on 2026-12-02
# (docs/measurements.md, "The main command"): a bound on outliers, not what fits the study in its time.
COST_LIMIT = 2.0
# The default of --checks-per-epoch follows the data: an epoch splits into up to MAX_CHECKS_PER_EPOCH checks
# (validations, each a chance to prune), each over at least MIN_CHECK_IMAGES training images. On scikit-learn's
# digits (1,197 training images) a quarter epoch was 2-3 batches, and the first rung stopped 53 of 71 trials at
# chance (bench/results/hpo_suite, 2026-12-04); 50,000 and 12,000 images keep 4 checks.
MAX_CHECKS_PER_EPOCH = 4
MIN_CHECK_IMAGES = 2_000


def default_checks_per_epoch(train_images: int) -> int:
    """Checks per epoch for a new study on `train_images` training images: as many as keep each check
    over MIN_CHECK_IMAGES images, between 1 and MAX_CHECKS_PER_EPOCH."""
    return max(1, min(MAX_CHECKS_PER_EPOCH, train_images // MIN_CHECK_IMAGES))


def expected_epochs(pruner: str, epochs: int, reduction_factor: int, checks_per_epoch: int) -> float:
    """The epochs a trial trains on average if each rung keeps its best 1/`reduction_factor`: for the ETA.

    Successive halving: every trial reaches check 1, that share goes on to check N, its
    share to N^2, ..., and the share that reaches the top rung to the end. Hyperband: the mean over its
    brackets (bracket s has its first rung at check N^s). The median rule (an upper
    bound) and no pruning: every epoch.
    """
    total = epochs * checks_per_epoch
    if pruner == "halving":
        return _halving_checks(total, reduction_factor, 1, top_rung(total, reduction_factor)) / checks_per_epoch
    if pruner == "hyperband":
        firsts = [1]
        while firsts[-1] * reduction_factor < total:
            firsts.append(firsts[-1] * reduction_factor)
        checks = sum(_halving_checks(total, reduction_factor, first, total) for first in firsts)
        return checks / len(firsts) / checks_per_epoch
    return float(epochs)


def top_rung(total_checks: int, reduction_factor: int) -> int:
    """The check from which halving stops no trial: the highest rung within a trial's checks (the largest
    power of the factor up to them), as ASHA places it, but never the first rung: every trial is judged once."""
    rung = reduction_factor
    while rung * reduction_factor <= total_checks:
        rung *= reduction_factor
    return rung


def _halving_checks(total: int, factor: int, first: int, last: int) -> float:
    """Mean checks per trial of successive halving judging at `first`, first*factor, ... below `last`."""
    checks, share, reached, rung = 0.0, 1.0, 0, first
    while rung < last:  # a check at the very end prunes nothing: the trial is done
        checks += share * (rung - reached)
        share, reached, rung = share / factor, rung, rung * factor
    return checks + share * (total - reached)
