"""Appointment types, bookings, the pre-treatment checklist and imaging review."""
