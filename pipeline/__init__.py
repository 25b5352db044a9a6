"""The Discord-free core: fetching feeds and articles, and turning articles into judgements."""
