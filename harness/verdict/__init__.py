"""The verdict: paired statistics (stats.py), break-even cost (cost.py), forgetting on the general suite
(forgetting.py) and the decision rule that turns them into GO / NO-GO / INCONCLUSIVE with reasons (decision.py)."""
