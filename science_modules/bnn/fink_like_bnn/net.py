"""A GRU classifier with Monte-Carlo dropout: P(SN Ia) and its spread over stochastic passes.

Dropout is *variational* (Gal & Ghahramani 2016): one mask per sequence for the input
features, the same at every time step, and one per sequence in the head. At inference
the T passes run as one batch: the alerts are repeated T times, pass ``k`` uses mask
``k`` for every alert, and the masks come from a generator seeded per call. So a score
is reproducible and does not depend on which other alerts share the batch.
"""

from __future__ import annotations

import torch
from torch import nn

from fink_like_bnn.sequences import N_FEATURES


class BayesianGRU(nn.Module):
    """GRU encoder and a two-layer head, dropout on inputs and in the head.

    Parameters
    ----------
    hidden : int
        GRU and head width.
    p_input, p_hidden : float
        Dropout rates on the step features and in the head.
    """

    def __init__(self, hidden: int = 32, p_input: float = 0.1, p_hidden: float = 0.2):
        super().__init__()
        self.hidden, self.p_input, self.p_hidden = hidden, p_input, p_hidden
        self.gru = nn.GRU(N_FEATURES, hidden, batch_first=True)
        self.fc1 = nn.Linear(hidden, hidden)
        self.fc2 = nn.Linear(hidden, 1)

    def config(self) -> dict:
        """Constructor arguments, stored beside the weights."""
        return {"hidden": self.hidden, "p_input": self.p_input, "p_hidden": self.p_hidden}

    def logits(self, steps: torch.Tensor, lengths: torch.Tensor, masks: tuple | None = None) -> torch.Tensor:
        """Logit of P(SN Ia) for each sequence, shape ``(N,)``.

        Parameters
        ----------
        steps : Tensor ``(N, L, F)``, zero-padded at the end.
        lengths : Tensor ``(N,)`` of valid steps, each >= 1.
        masks : (input_mask, h_mask, fc_mask) broadcastable to ``(N, F)``, ``(N, H)``,
            ``(N, H)``, already divided by the keep rate; ``None`` means no dropout.
        """
        if masks is not None:
            steps = steps * masks[0].unsqueeze(1)
        # Packing skips the padding: the GRU runs only over each sequence's valid steps
        # and its final state is the state after the last one.
        packed = nn.utils.rnn.pack_padded_sequence(steps, lengths, batch_first=True, enforce_sorted=False)
        _, h_n = self.gru(packed)
        last = h_n[-1]
        if masks is not None:
            last = last * masks[1]
        z = torch.relu(self.fc1(last))
        if masks is not None:
            z = z * masks[2]
        return self.fc2(z).squeeze(-1)

    def sample_masks(self, shape: tuple[int, ...], generator: torch.Generator | None = None) -> tuple:
        """Dropout masks of leading shape ``shape`` for inputs, encoder output and head."""
        def draw(width, p):
            keep = torch.rand(*shape, width, generator=generator) >= p
            return keep.float() / (1.0 - p)
        return draw(N_FEATURES, self.p_input), draw(self.hidden, self.p_hidden), draw(self.hidden, self.p_hidden)


def mc_predict(model: BayesianGRU, steps: torch.Tensor, lengths: torch.Tensor,
               passes: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and standard deviation of P(SN Ia) over ``passes`` dropout samples.

    All passes run in one batched call: the ``N`` sequences are repeated ``passes``
    times and pass ``k`` applies mask ``k`` (shared by every sequence) to its copy.
    """
    n = steps.shape[0]
    generator = torch.Generator().manual_seed(seed)
    m_in, m_h, m_fc = model.sample_masks((passes,), generator)
    rep = steps.repeat(passes, 1, 1)
    lens = lengths.repeat(passes)
    masks = tuple(m.repeat_interleave(n, dim=0) for m in (m_in, m_h, m_fc))
    prob = torch.sigmoid(model.logits(rep, lens, masks)).view(passes, n)
    std = prob.std(dim=0, unbiased=False) if passes > 1 else torch.zeros(n)
    return prob.mean(dim=0), std
