"""The termly strategy report and the school Targeting Support Meeting packs."""
