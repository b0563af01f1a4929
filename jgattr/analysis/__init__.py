"""Dataset-level views of the explanations: which sources drive the predictions (influence),
whether methods agree (method agreement), whether relevance stays inside the target's class
(class locality) and which node labels carry it (per atom type for molecules).

Every view is a pure function of results (an in-memory :class:`~jgattr.attribution.Attributions`,
a ``.npz`` file or a result folder of :func:`~jgattr.attribution.explain_to_folder`), computed
streaming a bounded block of rows at a time, so it runs on results larger than memory. Each
returns a plain dict of JSON-ready numbers (plus, where noted, numpy arrays for figures).

Example:
  >>> from jgattr import analysis
  >>> view = analysis.influence("run/attributions_nam", ds.num_nodes, ds.num_classes)
  >>> agree = analysis.method_agreement({"nam": nam, "ig": ig}, ds.num_classes)
"""

from jgattr.analysis._agreement import method_agreement, pair_agreement
from jgattr.analysis._blocks import iter_blocks, open_result
from jgattr.analysis._influence import gini, influence, top_share
from jgattr.analysis._locality import class_locality, label_relevance, mask_share
from jgattr.analysis._motifs import nitro_mask

__all__ = [
    "class_locality",
    "gini",
    "influence",
    "iter_blocks",
    "label_relevance",
    "mask_share",
    "method_agreement",
    "nitro_mask",
    "open_result",
    "pair_agreement",
    "top_share",
]
