"""Clinical PHI recognizers (presidio EntityRecognizer / PatternRecognizer subclasses)."""
from .addresses import AddressRecognizer
from .ages import AgeRecognizer
from .context_names import ContextNameRecognizer
from .dates import DateRecognizer
from .dictionary_names import NameDictionaryRecognizer
from .emails import EmailRecognizer
from .hospitals import HospitalRecognizer
from .ids import IdentifierRecognizer
from .ip_addresses import IpAddressRecognizer
from .locations import LocationRecognizer
from .organizations import OrganizationRecognizer
from .phones import PhoneRecognizer
from .spacy_names import SpacyPersonRecognizer
from .titled_names import TitledNameRecognizer
from .urls import UrlRecognizer
from .wards import WardRecognizer

__all__ = [
    "AddressRecognizer", "AgeRecognizer", "ContextNameRecognizer", "DateRecognizer", "NameDictionaryRecognizer", "EmailRecognizer",
    "HospitalRecognizer", "IdentifierRecognizer", "IpAddressRecognizer", "LocationRecognizer",
    "OrganizationRecognizer", "PhoneRecognizer", "SpacyPersonRecognizer", "TitledNameRecognizer", "UrlRecognizer",
    "WardRecognizer",
]
