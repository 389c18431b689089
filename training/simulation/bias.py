"""How past selection decisions were made, including the injected historical bias.

Among the applicants ``i`` to one opening (plus one outside option, an external hire), the
chosen one is drawn from a multinomial logit with utility

    u_i = fit_strength * fit_i - bias_strength * G_i - proxy_strength * P_i + e_i

where ``fit_i`` in [0, 1] is the applicant's true skill fit to the role on the day, ``G_i`` is 1
for members of ``bias_group``, ``P_i`` is 1 for part-time staff and ``e_i`` is standard Gumbel
noise. The outside option has utility ``fit_strength * external_fit + e_0``. So at equal fit the
odds of a group member being chosen over an otherwise identical applicant are multiplied by
``exp(-bias_strength)``, and again by ``exp(-proxy_strength)`` if they work part-time, which
group members do more often (``proxy_rate_group`` vs ``proxy_rate_other``).

Bias also acts one step earlier, on who is put forward for an opening at all (sourcing: the
people managers nominate and recruiters shortlist, recorded as the opening's applicants). A
feeder-role member drawn as a possible applicant is kept with probability

    exp(-sourcing_bias_strength * G_i - sourcing_proxy_strength * P_i)

so at equal skills a group member, and again a part-timer, is put forward less often. This is
the part of the history a ranker trained on "who was considered" learns from its features:
part-time status is an HR field a naive model would use, and it carries this bias.
"""

from __future__ import annotations

import numpy as np

from training.simulation.params import SimulationParams


def selection_utility(params: SimulationParams, fit: np.ndarray, in_group: np.ndarray,
                      part_time: np.ndarray) -> np.ndarray:
    """Systematic part of the utility of each applicant (the logit before noise)."""
    return (params.fit_strength * fit
            - params.bias_strength * in_group.astype(float)
            - params.proxy_strength * part_time.astype(float))


def sourcing_keep_probability(params: SimulationParams, in_group: bool, part_time: bool) -> float:
    """Probability that a drawn feeder-role member is actually put forward (sourcing bias)."""
    return float(np.exp(-params.sourcing_bias_strength * float(in_group)
                        - params.sourcing_proxy_strength * float(part_time)))


def choose(params: SimulationParams, fit: np.ndarray, in_group: np.ndarray,
           part_time: np.ndarray, rng: np.random.Generator) -> int | None:
    """Index of the chosen applicant, or None when the external candidate wins (Gumbel-max)."""
    utility = selection_utility(params, fit, in_group, part_time)
    utility = np.append(utility, params.fit_strength * params.external_fit)
    winner = int(np.argmax(utility + rng.gumbel(size=len(utility))))
    return None if winner == len(utility) - 1 else winner
