"""Prompting: the conversation an arm sends (conversations.py), how a model's chat template renders it
(template.py), where an answer ends (answer_end.py) and what shape it must take (constraints.py)."""
