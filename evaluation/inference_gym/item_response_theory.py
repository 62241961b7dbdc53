"""Inference Gym `SyntheticItemResponseTheory`: one-parameter logistic IRT, 400 students, 100 questions,
30,012 answers simulated from the prior (data shipped in the package).

    mean_student_ability ~ Normal(0.75, 1)
    centered_student_ability[i] ~ Normal(0, 1);  question_difficulty[j] ~ Normal(0, 1)
    correct[i, j] ~ Bernoulli(logit = mean_student_ability + centered_student_ability[i] - question_difficulty[j])

Truth: the gym's Stan run (50,000 draws).
"""

from __future__ import annotations

from _gym import GymTarget


class SyntheticItemResponseTheory(GymTarget):
    name = "gym_synthetic_irt"
    gym_class = "SyntheticItemResponseTheory"
    description = "Inference Gym 1PL item-response theory, 501 parameters, 30,012 answers (Stan truth)"
    params = ["mean_student_ability", "centered_student_ability", "question_difficulty"]

    def build(self, pm, api, data):
        students, questions = data["student_ids"].astype("int64"), data["question_ids"].astype("int64")
        with pm.Model() as model:
            mean_ability = pm.Normal("mean_student_ability", 0.75, 1.0)
            ability = pm.Normal("centered_student_ability", 0.0, 1.0, shape=int(students.max()) + 1)
            difficulty = pm.Normal("question_difficulty", 0.0, 1.0, shape=int(questions.max()) + 1)
            logit = mean_ability + ability[students] - difficulty[questions]
            pm.Bernoulli("correct", logit_p=logit, observed=data["correct"].astype("int64"))
        return model


MODEL = SyntheticItemResponseTheory()
