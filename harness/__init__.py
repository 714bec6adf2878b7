"""harness: is fine-tuning worth it here, or do prompting or RAG already do the job?"""

__version__ = "0.1.0"
