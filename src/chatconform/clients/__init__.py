"""Real clients as judges: a run's recorded answers replayed to real client libraries.

``jobs`` turns a run's wire archive into replay jobs, ``python`` and ``node`` serve them
to the client libraries, ``outcome`` compares what each returned with what the suite
read, and ``matrix`` makes results.json's ``clients`` of it.
"""
