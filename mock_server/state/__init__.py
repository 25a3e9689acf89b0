"""The label state of every instance, behind one lock, and the domain errors it raises."""
