"""Tuning: how tuned arms train beyond one sweep (the learning curve's points: `harness.tuning.curve`)."""
