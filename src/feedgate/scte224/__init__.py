"""SCTE 224 (ESNI) rights documents in and out: audiences, rules, blackouts and program windows."""
