"""Source adapters: every input to the warehouse behind one protocol (:mod:`.base`, :mod:`.registry`)."""
