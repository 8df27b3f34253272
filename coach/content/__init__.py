"""Content as data: YAML read with the line of every key, the plain data types
(Exercise, Routine, Heard ...), the library loader with its validation, and the
spoken command vocabulary with its pain intents. Below it: only errors.
"""

__all__ = ["commands", "library", "model", "pain_intents", "pain_rules", "words", "yamlfile", "yamlmapping", "yamlnodes"]
