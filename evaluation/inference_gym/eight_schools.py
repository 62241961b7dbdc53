"""Inference Gym `EightSchools`: Rubin's (1981) eight schools, centred, with a normal prior on the log
of the between-school sd. A different posterior from the project's own `eight_schools` (non-centred,
HalfCauchy(5) on tau):

    avg_effect ~ Normal(0, 10)
    log_stddev ~ Normal(5, 1)
    school_effects[i] ~ Normal(avg_effect, exp(log_stddev))
    treatment_effects[i] ~ Normal(school_effects[i], treatment_stddevs[i])

Truth: the gym's Stan run (20,000 draws).
"""

from __future__ import annotations

from _gym import GymTarget


class EightSchools(GymTarget):
    name = "gym_eight_schools"
    gym_class = "EightSchools"
    description = "Inference Gym eight schools, centred, log-normal group sd (Stan truth)"
    params = ["avg_effect", "log_stddev", "school_effects"]

    def build(self, pm, api, data):
        with pm.Model() as model:
            avg_effect = pm.Normal("avg_effect", 0.0, 10.0)
            log_stddev = pm.Normal("log_stddev", 5.0, 1.0)
            school_effects = pm.Normal("school_effects", avg_effect, pm.math.exp(log_stddev), shape=8)
            pm.Normal("treatment_effects", school_effects, data["treatment_stddevs"], observed=data["treatment_effects"])
        return model


MODEL = EightSchools()
