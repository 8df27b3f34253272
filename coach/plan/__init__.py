"""Today's plan: the progression rules (content/progression.yaml), the pure planner
that turns the person's own records into a routine, a dose and the reasons, and the
calendar of the weeks ahead. Reads the history's records; never writes them."""
