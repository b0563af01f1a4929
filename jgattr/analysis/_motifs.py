"""Known chemical answers to compare explanations with (MUTAG's nitro groups)."""

from __future__ import annotations

import numpy as np


def nitro_mask(senders: np.ndarray, receivers: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """bool ``[N]``: the atoms of nitro groups, an N bonded to at least two O, with those O.

    Mutagenicity of MUTAG's nitroaromatics is attributed to the NO2 group (Debnath et al. 1991);
    the mask marks where a graph-level explanation should put its relevance.

    Args:
      senders: int ``[E]`` edge sources (both directions of every bond).
      receivers: int ``[E]``.
      atoms: ``[N]`` atom symbols (``GraphDataset.node_names``).

    Returns:
      bool ``[N]``.
    """
    atoms = np.asarray(atoms).astype(str)
    senders, receivers = np.asarray(senders, np.int64), np.asarray(receivers, np.int64)
    n_to_o = (atoms[receivers] == "N") & (atoms[senders] == "O")
    oxygens = np.bincount(receivers[n_to_o], minlength=atoms.shape[0])
    nitrogen = oxygens >= 2
    mask = nitrogen.copy()
    mask[senders[n_to_o & nitrogen[receivers]]] = True
    return mask
