"""The verdict's stage: what the stored results say (the learning curve's fit: `harness.verdict.curve`)."""
