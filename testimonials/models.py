"""Patients' testimonials, submitted with consent and moderated by staff."""
