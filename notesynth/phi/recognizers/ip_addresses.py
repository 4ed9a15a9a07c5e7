"""IPv4/IPv6 addresses, validated with the standard library."""
from __future__ import annotations

import ipaddress

from presidio_analyzer import Pattern, PatternRecognizer


class IpAddressRecognizer(PatternRecognizer):
    def __init__(self):
        super().__init__(
            supported_entity="IP_ADDRESS", name="ClinicalIpRecognizer", context=[],
            patterns=[
                Pattern("ipv4", r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])", 0.7),
                Pattern("ipv6", r"(?<![:\w])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![:\w])", 0.6),
            ],
        )

    def validate_result(self, pattern_text: str):
        try:
            ipaddress.ip_address(pattern_text)
            return True
        except ValueError:
            return False
