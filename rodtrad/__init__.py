"""Röd tråd: the red thread from vision to activities, and back up through follow-up."""
