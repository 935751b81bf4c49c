# SPDX-License-Identifier: GPL-3.0-or-later
"""The pieces of a training run that the classifier and the Pix2Pix generator share (torch).

Both trainers take the same schedule options, run on a CUDA GPU when one is present (else the CPU), measure their
progress in wall-clock time when a budget is given (the GPU machines are lent for minutes, so a run is sized in
seconds, not epochs), augment with the 8 flips/rotations (the sky has no up) and stop before an epoch would overrun
the budget. Written once here so that both schedules stay the same.
"""

from __future__ import annotations

import argparse
import time

import torch


def parser(doc: str) -> argparse.ArgumentParser:
    """A command line that prints the script's docstring as its help."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_schedule(ap: argparse.ArgumentParser, epochs: int, batch: int, lr: float) -> None:
    """--epochs, --seconds (wall-clock budget), --batch, --lr and --seed with the trainer's defaults."""
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--seconds", type=float, default=0, help="wall-clock budget (0: none)")
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--lr", type=float, default=lr)
    ap.add_argument("--seed", type=int, default=0)


def device(seed: int) -> torch.device:
    """Seeds torch and picks the device: the GPU when there is one."""
    torch.manual_seed(seed)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def progress(args: argparse.Namespace, t0: float, epoch: int, step: int, steps: int) -> float:
    """How far the run is, in [0, 1] (more once the budget is spent): of --seconds when given, else of --epochs."""
    if args.seconds:
        return (time.time() - t0) / args.seconds
    return (epoch + step / steps) / args.epochs


def set_lr(optimisers, lr: float) -> None:
    """Sets the learning rate of every parameter group of every optimiser."""
    for opt in optimisers:
        for group in opt.param_groups:
            group["lr"] = lr


def dihedral(*batches: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """One random flip/rotation of the 8, the same for every batch given (an image and its map move together)."""
    k = int(torch.randint(0, 4, (1,)))
    out = tuple(torch.rot90(b, k, (2, 3)) for b in batches)
    if torch.rand(1) < 0.5:
        out = tuple(b.flip(3) for b in out)
    return out


def out_of_time(args: argparse.Namespace, elapsed: float, epoch: int) -> bool:
    """True (and says so) when one more epoch at the mean pace would pass the budget by more than 2 %."""
    if args.seconds and elapsed * (epoch + 2) / (epoch + 1) > args.seconds * 1.02:
        print(f"time budget reached after {epoch + 1} epochs", flush=True)
        return True
    return False


def step(opt: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    """One optimiser step on `loss` (gradients cleared first)."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()


def keep_best(best: float, score: float, checkpoint, path: str) -> float:
    """Writes `checkpoint()` to `path` when `score` beats `best` (so an interrupted run leaves its best model);
    returns the best score so far."""
    if score <= best:
        return best
    torch.save(checkpoint(), path)
    return score
