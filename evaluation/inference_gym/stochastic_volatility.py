"""Inference Gym `StochasticVolatilitySP500Small`: the last 100 daily S&P 500 returns (to 2020-06-24,
shipped in the package), mean-adjusted, with an AR(1) log volatility. As the gym's code has it (its
docstring puts the mean in the likelihood instead; the code, which the truth was made with, wins):

    persistence_of_volatility ~ 2 * Beta(20, 1.5) - 1
    mean_log_volatility ~ Cauchy(0, 5);  white_noise_shock_scale ~ HalfCauchy(2)
    log_volatility[0] ~ Normal(mean, scale / sqrt(1 - persistence**2))
    log_volatility[t] ~ Normal(mean + persistence * (log_volatility[t-1] - mean), scale)
    centered_returns[t] ~ Normal(0, exp(log_volatility[t] / 2))

The series is sampled centred, as the gym does. Truth: the gym's Stan run (50,000 draws).
"""

from __future__ import annotations

from _gym import GymTarget


class StochasticVolatilitySP500Small(GymTarget):
    name = "gym_stochastic_volatility_sp500_small"
    gym_class = "StochasticVolatilitySP500Small"
    description = "Inference Gym stochastic volatility, 100 S&P 500 returns, 103 parameters (Stan truth)"
    params = ["persistence_of_volatility", "mean_log_volatility", "white_noise_shock_scale", "log_volatility"]

    def build(self, pm, api, data):
        returns = data["centered_returns"]
        with pm.Model() as model:
            beta = pm.Beta("persistence_beta", 20.0, 1.5)
            persistence = pm.Deterministic("persistence_of_volatility", 2.0 * beta - 1.0)  # a constant Jacobian
            mean = pm.Cauchy("mean_log_volatility", 0.0, 5.0)
            scale = pm.HalfCauchy("white_noise_shock_scale", 2.0)
            stationary = pm.Normal.dist(mean, scale / pm.math.sqrt(1.0 - persistence**2))
            log_volatility = pm.AR(
                "log_volatility", rho=[mean * (1.0 - persistence), persistence], sigma=scale, constant=True,
                ar_order=1, init_dist=stationary, steps=len(returns) - 1,
            )
            pm.Normal("centered_returns", 0.0, pm.math.exp(log_volatility / 2.0), observed=returns)
        return model


MODEL = StochasticVolatilitySP500Small()
