"""Names, places, phones and dates found by their context or grown from a found part (the tenth
session's rules: recognizers/context_names.py, growth.py, dates.date_tokens, wards before a unit,
dated tests and bowel movements, device and exam vetoes), each with the negatives it must leave
alone.  The rule detector runs here (conftest's, no tagger), so each case is the rule's own doing."""
from __future__ import annotations

import pytest

from notesynth.phi.growth import grow
from notesynth.phi.notation import is_medical_notation
from notesynth.phi.recognizers.base import unlisted_word
from notesynth.phi.recognizers.dates import date_tokens
from notesynth.phi.tagger.model import _one_word
from notesynth.spans import Span
from phi_spans import covered, found


@pytest.mark.parametrize("text,needle", [
    ("At this time, Vrma wishes to make pt DNR/DNI.", "Vrma"),
    ('to "let nature take its course." Vrma verbalizes his understanding', "Vrma"),
    ("At this time Vrma does not wish to visit the hospital.", "Vrma"),
    ("ONly able to reach Hcinika.. when family returns call", "Hcinika"),
    ("PM DOSE ??40MG. PER GORENC WILL HOLD PRESENTLY.", "GORENC"),
    ("DR KAROYSOS OF NEURO TEAM UP TO TALK WITH KIN REGARDING HIS BROTHERS CONDITION", "KIN"),
    ("lungs clear. Ambrozic ^ amts of oral secretions.", "Ambrozic"),
    ("Con't to work with Balaxanim for txr home.", "Balaxanim"),
    ("Daughters in most of afternoon, spoke w/ MD Akat: plan.", "Akat"),
    ("SBP down to 80s-90s. Peristeropoylos and Dr. Kralikova in room.", "Peristeropoylos"),
    ("PA # INCREASING EARLIER -> GORENC MD AWARE-> NTG ADDED", "GORENC"),
    ("seen and evaluated by dr Dzezov.talked with Nrgs from case management", "Nrgs"),
    ("A DECISION MAKER FOR THIS PT. ALDO KAVETSKI OF HOSPITAL LEGAL CONTACTED", "KAVETSKI"),
    ("blood due to a hct of 26. Qorvath from cardiology will see pt", "Qorvath"),
    ("PT IS ON 850U/HR HEPARIN NOT 1400U/HR. HYLANDS \n \n", "HYLANDS"),
    ("secretions suctioned when needed. all is well at this time. Dzezov rrt\n\n", "Dzezov"),
    ("breathing labored, but once Hieng woke up after midnite, breathing regular", "Hieng"),
    ("seen by dr Qosali.talked with Bits'adze from case management about arrangements", "Bits'adze"),
])
def test_a_name_no_list_knows_is_found_by_what_the_sentence_does_with_it(detector, text, needle):
    assert covered(detector, text, needle, "NAME")


@pytest.mark.parametrize("text,needle", [
    ("Pt states she feels better, per protocol.", "Pt"),
    ("Pt remains on bipap. Neuro reports no change.", "Neuro"),
    ("CALLED VNA TO ARRANGE SERVICES. PER OSH RECORDS", "VNA"),
    ("CALLED VNA TO ARRANGE SERVICES. PER OSH RECORDS", "OSH"),
    ("Lasix wants to be given early; Tylenol given per order.", "Lasix"),
    ("spoke with MD regarding plan, updated Careview.", "Careview"),
    ("TALKED WITH CVVH RN ABOUT FILTER", "CVVH"),
    ("Pt talked with Pt family about it. EKG MD aware.", "EKG"),
    ("Seen by PT. Lasix from pharmacy given.", "Lasix"),
    ("Abdomen soft. Pt comfortable overnight. Stable\n", "Stable"),
    ("Foley left in place. Pt woke up at 3am.", "Foley"),
    ("Plan: continue lasix, follow lytes. Diurese\n", "Diurese"),
])
def test_context_names_leave_words_and_abbreviations_alone(detector, text, needle):
    assert not found(detector, text, needle)


@pytest.mark.parametrize("text,part,label,want", [
    ("Lives in Tijucas do Sul now.", "Tijucas", "GEOGRAPHIC_LOCATION", ["Tijucas do Sul"]),
    ("ARRIVE AT 1900 FROM KANNUR, NV.", "KANNUR", "GEOGRAPHIC_LOCATION", ["KANNUR, NV"]),
    ("DECISION MAKER FOR THIS PT. SILVO GERGIN OF HOSPITAL LEGAL CONTACTED", "SILVO", "NAME", ["SILVO GERGIN"]),
    ("consulted with clinical rn specialist, Ottkkuttn Suits, today", "Suits", "NAME", ["Ottkkuttn Suits"]),
    ("ACCESS: 2 Kinkela, Smsr placed.", "Kinkela", "NAME", ["Kinkela, Smsr"]),
    ("social: daughters Dimperio and Oyelaran in to visit", "Dimperio", "NAME", ["Dimperio", "Oyelaran"]),
    ("UOP DROPPED, J. Myers ORDERED EPI", "Myers", "NAME", ["J. Myers"]),
    ("given vitamin K. Smith aware", "Smith", "NAME", ["Smith"]),
    ("Knows she is in Jardines de la Silla.", "Jardines", "GEOGRAPHIC_LOCATION", ["Jardines de la Silla"]),
    ("Readmitted to 6-795-995 w/ edema.", "795-995", "MEDICAL_RECORD_NUMBER", ["6-795-995"]),
    ("MRN 0798.921 admitted.", "0798", "MEDICAL_RECORD_NUMBER", ["0798.921"]),
    ("Call 555-1234. Then rest.", "555-1234", "PHONE_NUMBER", ["555-1234"]),
    ("Readmitted to GG 735749 w/ edema.", "735749", "MEDICAL_RECORD_NUMBER", ["GG 735749"]),
    ("Readmitted to I/223745 w/ edema.", "223745", "MEDICAL_RECORD_NUMBER", ["I/223745"]),
    ("his wife (133 0710) confirms.", "0710", "PHONE_NUMBER", ["133 0710"]),
    ("his wife, Ly'd Dusikova, confirms.", "Dusikova", "NAME", ["Ly'd Dusikova"]),
])
def test_growth_takes_in_the_rest_of_an_identifier(text, part, label, want):
    i = text.index(part)
    assert [text[s.start:s.end] for s in grow(text, [Span(i, i + len(part), label, 0.8)])] == want


@pytest.mark.parametrize("text,part,label,want", [
    ("TRANSFER TODAY TO EAKIN UNIT WHEN BED AVAILABLE", "EAKIN", "NAME", ("EAKIN UNIT", "WARD")),
    ("ready to go out again to Raty Wing.", "Raty", "NAME", ("Raty Wing", "WARD")),
    ("went to Our Lady of Fyli Hosp with sever abd pain", "Fyli", "GEOGRAPHIC_LOCATION",
     ("Our Lady of Fyli Hosp", "HOSPITAL")),
    ("TRANSFERRED FROM OUR LADY OF NORDSTADT FOR CATH", "NORDSTADT", "GEOGRAPHIC_LOCATION",
     ("OUR LADY OF NORDSTADT", "HOSPITAL")),
    ("PT TRANSFERRED TO ROMANS HEART INSTITUTE FOR CATH.", "ROMANS", "GEOGRAPHIC_LOCATION",
     ("ROMANS HEART INSTITUTE", "HOSPITAL")),
    ("followed at the Kinkela Infirmary since May", "Kinkela", "NAME", ("Kinkela Infirmary", "HOSPITAL")),
])
def test_growth_takes_in_the_rest_of_an_institutions_name(text, part, label, want):
    i = text.index(part)
    [s] = grow(text, [Span(i, i + len(part), label, 0.8)])
    assert (text[s.start:s.end], s.label) == want


def test_a_saint_or_mount_prefix_keeps_the_label():
    text = "Family lives in Mount Vernon now."
    i = text.index("Vernon")
    [s] = grow(text, [Span(i, i + 6, "GEOGRAPHIC_LOCATION", 0.8)])
    assert (text[s.start:s.end], s.label) == ("Mount Vernon", "GEOGRAPHIC_LOCATION")


@pytest.mark.parametrize("text,part", [
    ("Dr. Smith unit clerk called", "Smith"),  # a lower-case noun is charting, not a name
    ("seen by Jones clinic staff", "Jones"),
    ("Mr. Lee lady friend at bedside; our lady of the night shift", "Lee"),
])
def test_institution_growth_wants_a_capital(text, part):
    i = text.index(part)
    [s] = grow(text, [Span(i, i + len(part), "NAME", 0.8)])
    assert (text[s.start:s.end], s.label) == (part, "NAME")


@pytest.mark.parametrize("text,part,label", [
    ("MRN 735749 on file.", "735749", "MEDICAL_RECORD_NUMBER"),   # the cue is not the number's
    ("TO 735749 today.", "735749", "MEDICAL_RECORD_NUMBER"),      # an ordinary word
    ("Pt X 7357491 units.", "7357491", "OTHER_ID"),               # one letter apart: a space
    ("Ph 135 0710 now.", "0710", "MEDICAL_RECORD_NUMBER"),        # digits before only a phone's
    ("Room 118 73570 today.", "73570", "PHONE_NUMBER"),           # ddd ddddd is no local phone
])
def test_an_identifiers_letters_need_the_number_to_be_one(text, part, label):
    i = text.index(part)
    assert [text[s.start:s.end] for s in grow(text, [Span(i, i + len(part), label, 0.8)])] == [part]


@pytest.mark.parametrize("word,unlisted", [
    ("bits'adze", True), ("ly'd", True), ("smv'l", True),
    ("don't", False), ("didn't", False), ("he'd", False), ("we'll", False), ("it's", False),
])
def test_an_apostrophe_inside_a_name_is_part_of_it_a_contraction_is_a_word(word, unlisted):
    assert unlisted_word(word, need_vowel=False) is unlisted


def test_growth_stops_at_known_words():
    text = "Smith Tolerated well. Dr. Jones Tolerated well. Moore, Lasix given and Tylenol held."
    spans = [Span(0, 5, "NAME", 0.9), Span(text.index("Jones"), text.index("Jones") + 5, "NAME", 0.9),
             Span(text.index("Moore"), text.index("Moore") + 5, "NAME", 0.9)]
    assert [text[s.start:s.end] for s in grow(text, spans)] == ["Smith", "Jones", "Moore"]


@pytest.mark.parametrize("text,i,joined", [
    ("rec tet Ch'ighladze per rn", 10, True),     # "Ch" + "'" : one word
    ("rec tet Ch'ighladze per rn", 11, True),     # "'" + "ighladze"
    ("Smith's wife called", 5, False),            # a possessive ends the name
    ("pt of dr. Qedir Grv'n. allergies", 20, True),
    ("CABG '94 and MI", 5, False),                # a year's apostrophe is no letter join
    ("Smith Jones", 5, False),
])
def test_the_tagger_grows_its_spans_over_apostrophes_between_letters(text, i, joined):
    assert _one_word(text, i) is joined


@pytest.mark.parametrize("text,needle,want", [
    ("slowly improved and transferred to Birtic MICU.", "Birtic", True),
    ("PT TRANSFERRED TO THE LAMFERS UNIT FOR CATH", "LAMFERS", True),
    ("transferred to Cardiac ICU overnight", "Cardiac", False),
    ("SENT TO THE SURGICAL UNIT", "SURGICAL", False),
])
def test_a_unit_named_after_someone_is_a_ward(detector, text, needle, want):
    assert covered(detector, text, needle, "WARD") is want


@pytest.mark.parametrize("text,needle,want", [
    ("SISTER-HEALTH CARE PROXY. LIVES IN BEDONG /  PAST SMOKER.", "BEDONG", True),
    ("Pt lives in Kwaluseni with her son.", "Kwaluseni", True),
    ("She moved from Oyem last year.", "Oyem", True),
    ("Pt lives in Kwaluseni with her son.", "son", False),
    ("Lives at Home with wife, moved to Rehab today.", "Rehab", False),
    ("Pt states he lives in Pain most days.", "Pain", False),
])
def test_a_word_no_list_knows_after_a_residence_cue_is_a_place(detector, text, needle, want):
    assert found(detector, text, needle, "GEOGRAPHIC_LOCATION") is want


@pytest.mark.parametrize("text,needle,want", [
    ("Her IABP was d/c 8-22. Her groin remains dry.", "8-22", True),
    ("GI appetite good, LBM 12-8", "12-8", True),
    ("echo 1-30 showing EF 20-25%", "1-30", True),
    ("However at 6p 4-16 she was 205 and received 2u reg insulin", "4-16", True),
    ("plan to d/c 2-3 days from now", "2-3", False),
    ("RR 23-27, sats 95%", "23-27", False),
    ("BM x2 soft, 1-2 more expected", "1-2", False),
    # a dash date stands anywhere a range cannot
    ("PT MOVED OUT 6-14 AFTERNOON, FAMILY AWARE.", "6-14", True),
    ("PMH: DM2; CAD/CHF 11-3; HTN", "11-3", True),
    ("Suctioned q 2-3 hours for thick secretions", "2-3", False),
    ("frequent 3-4 beat runs of VT", "3-4", False),
    ("GOAL (-) 1-2 LITERS/DAY", "1-2", False),
    ("CVP 8-12. PCWP 14", "8-12", False),
    ("transfered with 1-2 assist to chair", "1-2", False),
    ("dopa 5-8mic overnight", "5-8", False),
])
def test_dated_events(detector, text, needle, want):
    assert covered(detector, text, needle, "DATE") is want


@pytest.mark.parametrize("text,needle,label,kept", [
    ("mouth sore since last week and worse", "last week", "DATE", False),    # no date in it
    ("plans to see him at the end of May 2005", "end of", "DATE", False),
    ("seen last Monday in clinic", "last Monday", "DATE", True),
    ("married in January, well since", "January", "DATE", True),
    ("home for Christmas with family", "Christmas", "DATE", True),
    ("lost consciousness for may be a full day", "may", "DATE", False),        # the verb
    ("seen in May by her doctor", "May", "DATE", True),
    ("seen in may by her doctor", "may", "DATE", True),                          # a lower-case note
    ("she fell on Memorial Day at home", "Memorial Day", "DATE", True),
    ("son An at bedside all day", "An", "NAME", True),                           # a name, capitalised
    ("performed by Dr. Cermak in Las Cruces", "in", "GEOGRAPHIC_LOCATION", False),  # a stray function word
    ("Her husband states that he was at home", "he", "NAME", False),
    ("6. CLL followed by Dr. Eighmey.\n7. Coronary disease", "7", "NAME", False),  # no letter
    ("performed by Dr. Cermak in Las Cruces", "Las Cruces", "GEOGRAPHIC_LOCATION", True),
    ("5. Hypertension.\n6. History of basal cell carcinoma", "History", "HOSPITAL", False),  # one word, line start
    ("born at Memorial Hospital, NSVD", "Memorial Hospital", "HOSPITAL", True),
    ("Transferred from Mass General for ECMO", "Mass General", "HOSPITAL", True),
    ("Transferred from Providence for ECMO", "Providence", "HOSPITAL", True),    # not at a sentence start
    ("transferred to Finard 12 overnight", "Finard 12", "WARD", True),
    ("involved either T6-T7 or T7-T8", "T7", "MEDICAL_RECORD_NUMBER", False),   # a spinal level
])
def test_a_span_without_an_identifier_in_it_is_dropped(detector, text, needle, label, kept):
    """Whatever recognizer gave it (the tagger learned "last week" from ASQ-PHI's labels), a DATE
    span that names no day, month, year, weekday or holiday, a span of function words only, a
    name without a letter, an institution of dictionary words without an institution noun or a
    spinal level identifies no one: a surrogate in its place would only change what the note
    says (and the checker would find the original's ordinary word in the output as a leak)."""
    from presidio_analyzer import RecognizerResult

    start = text.index(needle)
    spans = detector._to_spans(text, [RecognizerResult(label, start, start + len(needle), 0.9)])
    assert bool(spans) is kept


@pytest.mark.parametrize("needle,found,label", [
    ("Martin Luther King Day", "Martin Luther King Day", "DATE"),
    ("Martin Luther King", "Martin Luther King Day", "DATE"),   # the name recognizer's span takes its "Day"
    ("Doris Day", "Doris Day", "NAME"),                          # a person's name ending in Day stays one
    ("Patrick's Day Care", "Patrick's Day Care", "NAME"),        # a business, not the holiday
])
def test_a_holiday_read_as_a_name_is_a_date(detector, needle, found, label):
    """A name recognizer reads "Martin Luther King Day" as a person; it is a date, and a NAME's
    surrogate would leave "Day" and "King" for the leak test to find in any output."""
    from presidio_analyzer import RecognizerResult

    text = f"he said the last holiday was {found}, which is unusual"
    start = text.index(needle)
    spans = detector._to_spans(text, [RecognizerResult("NAME", start, start + len(needle), 0.9)])
    assert [(text[s.start:s.end], s.label) for s in spans] == [(found, label)]


@pytest.mark.parametrize("text,found", [
    ("Patient: Anna Silver, 67F, seen today.", "Anna Silver"),
    ("Spoke with Mrs. Anna Major about the plan.", "Anna Major"),
    ("Son John will visit today.", "John"),          # not capitalised: a verb
    ("Mary Called back at noon.", "Mary"),           # a charting word
])
def test_a_first_name_found_alone_takes_the_capitalised_word_after_it(text, found):
    """The surname of a pair whose first name was found alone, though an ordinary word."""
    from notesynth.phi.growth import grow

    start = text.index(found.split()[0])
    spans = grow(text, [Span(start, start + len(found.split()[0]), "NAME")])
    assert [text[s.start:s.end] for s in spans] == [found]


@pytest.mark.parametrize("text,needle", [
    ("Heart: Sounds were heard, grade 2/6 systolic murmur at the precordium.", "2/6"),
    ("Heart: regular, 3/6 murmur at the apex.", "3/6"),
    ("Strength 4/5 in the right arm.", "4/5"),
])
def test_a_murmur_grade_or_a_strength_is_not_a_date(detector, text, needle):
    assert not found(detector, text, needle, "DATE")


def test_a_date_before_systolic_is_still_a_date(detector):
    assert found(detector, "Hypotensive 11/28, systolic 70s, fluid given.", "11/28", "DATE")


def test_a_place_before_a_number_of_years_is_not_a_ward(detector):
    text = "Last colonoscopy was performed by Dr. Cermak in Las Cruces 3 years ago."
    assert not found(detector, text, "3", "WARD")


@pytest.mark.parametrize("text,needle", [
    ("daughter is mrs. Drakakis, tel +33 6 83 95 26 74.", "+33 6 83 95 26 74"),
    ("they can be reached at 570-521-1517, ext 28. pt has c/o", "570-521-1517, ext 28"),
    ("they can be reached at 255 2463. pt has c/o back pain", "255 2463"),
    ("SISTER-?HEALTH CARE PROXY. LIVES IN DELAWARE / PAST SMOKER.", "DELAWARE"),
    ("FAMILY ARRIVED AT 2 AM FROM THE MAINE- DAUGHTER AND SON", "MAINE"),
])
def test_phones_and_places_in_new_shapes(detector, text, needle):
    assert covered(detector, text, needle)


@pytest.mark.parametrize("text,needle", [
    ("Pt placed on Bair hugger for temp 35.1", "Bair"),
    ("ACCESS: SWAN GANZ IN R IJ", "GANZ"),
    ("PLACED ON ZOLL PACER ON ARRIVAL", "ZOLL"),
    ("neuro: alert, MAE, PERRL.", "MAE"),
    ("w/ daughter. MAE. GI: tolerating", "MAE"),
])
def test_devices_and_exam_abbreviations_are_not_names(detector, text, needle):
    assert not found(detector, text, needle)


@pytest.mark.parametrize("text,needle", [
    ("Dr. Foley aware of the plan", "Foley"),
    ("Dr. Hickman in to see pt", "Hickman"),
    ("daughter Mae at bedside", "Mae"),
])
def test_a_device_maker_or_exam_word_that_is_someones_name_stays_a_name(detector, text, needle):
    assert found(detector, text, needle, "NAME")


@pytest.mark.parametrize("text,needle,vetoed", [
    ("neuro: alert, MAE, PERRL.", "PERRL", True),
    ("SPOKE WITH DAUGHTER PEARL ABOUT PLAN", "PEARL", False),   # a span the tagger may give
    ("Dr. MAE aware", "MAE", False),
    ("w/ daughter. MAE. GI:", "MAE", True),
])
def test_the_exam_veto_spares_a_name_after_a_family_word_or_title(text, needle, vetoed):
    start = text.index(needle)
    assert is_medical_notation(text, start, start + len(needle), "NAME") is vetoed


@pytest.mark.parametrize("text,span,want", [
    ("captopril 6.25 po", "6", []),                    # part of a decimal
    ("C/O 5.6/67. Nipride", "5.6/67", []),             # a value after a measurement
    ("on d5 1/2 ns", "1/", []),                        # a fraction
    ("PAD 24- 37 when resting", "24-", []),            # a range of values
    ("at 12am 8-30.", "8-", ["8-30"]),                 # a cut date is taken whole
    ("XRT 2.12.1967. 6.15.2015 pt", "2.12.1967. 6.15.2015", ["2.12.1967", "6.15.2015"]),
    ("PRESENT HX:11-29 DECEASED", "11-29", ["11-29"]),
    ("CABG '60, all grafts", "'60", ["'60"]),
    ("seen on the 2nd", "the 2nd", ["the 2nd"]),        # words: left to the tagger
])
def test_the_taggers_numeric_dates_are_judged_number_by_number(text, span, want):
    start = text.index(span)
    assert [text[a:b] for a, b in date_tokens(text, start, start + len(span))] == want
