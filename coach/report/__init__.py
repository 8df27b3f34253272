"""Progress to look at and share: weekly summaries and plots of pain, sessions and safety
outcomes, read from the history's records (``coach.store.records``)."""
