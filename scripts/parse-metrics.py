#!/usr/bin/env python3
"""Reads Prometheus text exposition on stdin with prometheus_client's parser and prints, as JSON, each family's
type and HELP text ("unknown" and "" when the text has no TYPE or HELP line for it) and every sample. Exits non-zero,
with the parser's error on stderr, when the text is malformed. Used by
Tests/EndToEndTests/DaemonMetricsExpositionTests.swift (needs python3-prometheus-client)."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

text = sys.stdin.read()
families = {}
samples = []
for family in text_string_to_metric_families(text):
    families[family.name] = {"type": family.type, "help": family.documentation}
    for sample in family.samples:
        samples.append({"name": sample.name, "labels": dict(sample.labels), "value": sample.value})
json.dump({"families": families, "samples": samples}, sys.stdout)
