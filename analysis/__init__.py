"""Reading an article and the store: relevance, the article analysis (summary, statements, judgements, proposals),
/ask retrieval and answers, and the offline evaluations of the judge and of /ask. It decides; it never writes."""
