"""Values, no I/O: jobs, HTTP values, capabilities, prices, the output-folder layout, time."""
