"""Mingle's organizer floor map and attendee pages."""
