"""What the bot asks a model, each a prompt and a reading of its reply: relevance, summaries, statement extraction,
clash judgements (with per-model judge profiles in ``profiles/``), and which way an /ask question points."""
