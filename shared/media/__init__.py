"""Media: probing, validation per platform, conversion, covers, sample videos."""
