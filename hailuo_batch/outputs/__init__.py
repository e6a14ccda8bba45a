"""Files derived from the lockfile: results, the gallery, the live report, video probing, verify."""
