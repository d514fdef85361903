#!/usr/bin/env python3
"""Prints each failed test of the given .trx files in a few lines: its name and the lines of its
message that say what failed. CI shows only the end of a run's output, so this goes last."""
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
KEEP = ("FAILED", "Expected", "But was", "  Expected", "  But was", "first differences", "observer's last")

for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print(f"(could not read {path}: {e})")
        continue
    for result in root.iterfind(".//t:UnitTestResult", NS):
        if result.get("outcome") not in ("Failed", "Error", "Timeout"):
            continue
        message = result.findtext(".//t:Message", default="", namespaces=NS).splitlines()
        print(f"FAILED {result.get('testName')}")
        shown = [l for l in message[1:] if l.startswith(KEEP)][:12]
        for line in ([message[0]] if message else []) + shown:
            print("    " + line[:400])
