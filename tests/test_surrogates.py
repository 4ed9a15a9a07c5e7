from notesynth.surrogates import SurrogateMaker, match_case, shift_date


def test_same_name_same_surrogate_within_note():
    maker = SurrogateMaker(seed=3)
    a = maker.surrogate("NAME", "John Smith")
    b = maker.surrogate("NAME", "john smith")
    c = maker.surrogate("NAME", "Dr. Smith")
    assert a.lower() == b.lower()
    assert a.split()[-1].lower() == c.split()[-1].lower()  # last name part maps consistently
    assert "smith" not in a.lower() and "john" not in a.lower()


def test_surrogate_never_equals_original_and_keeps_shape():
    maker = SurrogateMaker(seed=1)
    for label, value in [("PHONE_NUMBER", "(617) 555-1234"), ("MEDICAL_RECORD_NUMBER", "MRN 12345678"),
                         ("SOCIAL_SECURITY_NUMBER", "123-45-6789")]:
        new = maker.surrogate(label, value)
        assert new != value
        assert len(new) == len(value)
        assert [c.isdigit() for c in new] == [c.isdigit() for c in value]


def test_all_dates_shift_by_one_offset():
    maker = SurrogateMaker(seed=5, date_shift_days=10)
    assert maker.surrogate("DATE", "2023-01-05") == "2023-01-15"
    assert maker.surrogate("DATE", "4/18") == "4/28"
    assert maker.surrogate("DATE", "April 12") == "April 22"
    assert maker.surrogate("DATE", "12 Apr 2023") == "22 Apr 2023"
    assert maker.surrogate("DATE", "12/25/2022") == "01/04/2023" or maker.surrogate("DATE", "12/25/2022") == "1/4/2023"


def test_shift_keeps_format_and_interval():
    assert shift_date("03/30/2021", 3) == "04/02/2021"
    assert shift_date("not a date", 3) is None


def test_case_follows_original():
    maker = SurrogateMaker(seed=2)
    assert maker.surrogate("NAME", "SMITH").isupper()
    assert match_case("boston", "Chicago") == "chicago"


def test_unparsed_date_still_replaced():
    maker = SurrogateMaker(seed=4)
    new = maker.surrogate("DATE", "Tuesday")
    assert new != "Tuesday" and new.endswith("day")


def test_year_only_dates_and_ordinal_days_always_change():
    """A shift under half a year rounded a year-only date back to itself ("in 1996" kept in
    every note whose shift was small): every shift moves a year by at least one."""
    from notesynth.surrogates import SurrogateMaker, shift_date

    for days in (-730, -200, -30, 30, 181, 183, 400, 730):
        assert shift_date("1996", days) != "1996"
        assert shift_date(" the 23rd", days).strip() != "the 23rd"
        assert shift_date("23rd", days) != "23rd"
    assert shift_date("1996", 30) == "1997" and shift_date("1996", -30) == "1995"
    for seed in range(30):
        maker = SurrogateMaker(seed)
        assert maker.surrogate("DATE", "1993") != "1993"


def test_month_of_year_keeps_its_format():
    from notesynth.surrogates import shift_date

    assert shift_date("September of 2006", 100) == "December of 2006"
    assert shift_date("March 2010", -60) == "January 2010"
    assert shift_date("Sept, 2010", 30) is not None
