"""Tuning: training one LoRA/QLoRA adapter with TRL (training.py) and the Optuna study around it: storage,
search space, owners and retries (sweep.py). The arm that runs a sweep is arms/finetune.py, and one trial
(train, then score on the validation split with the arm's answering) is arms/trials.py. The learning curve's
points (nested seeded subsets of train, their steps, their cache keys) are curve.py."""
