"""Conditions, treatments, FAQs and their sources: the public medical content."""
