"""The verdict, numbers first and words second.

- stats: paired statistics (Tango's score interval, the paired bootstrap, Holm, planning formulas).
- cost: cost per request and break-even; forgetting: base vs tuned on the general-capability suite.
- comparison: one tuned arm against one baseline on the same test items (the paired lift and its bounds).
- slices: the same pair on parts of the test set (JSON fields, gold labels, values of declared data fields).
- planning: how many test items would settle a verdict that is not yet settled (lift and cost routes).
- outcome: GO / NO-GO / INCONCLUSIVE, the comparisons, the binding baseline and which rule fired (`judge`).
- reasons: the sentences, written from an outcome and nothing else.
- decision: `decide` (outcome + reasons) and the stored `Decision`.
"""
