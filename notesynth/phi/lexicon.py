"""Word lists the recognizers share.

Name lists come from the Faker package's person providers (broad lists of common
first and last names per locale, themselves drawn from census-style sources); the
common-English list is Faker's en_US lorem vocabulary plus spaCy's stop words; the
clinical vocabulary below is hand-written (eponyms, devices, drugs, abbreviations
and charting words that look like names when capitalised).
"""
from __future__ import annotations

import importlib
from functools import lru_cache

NAME_LOCALES = ("en_US", "en_GB", "en_IE", "en_NZ", "en_IN", "es_MX", "es_ES")

# Eponyms, devices, procedures, scores: capitalised in notes, never a person there
# unless a title or a post-nominal says so.
MEDICAL_WORDS = """
foley parkinson parkinsons hodgkin hodgkins crohn crohns alzheimer alzheimers cushing cushings addison addisons
babinski chaddock gleason glasgow whipple heimlich trendelenburg homan homans kussmaul cheyne guillain barre
wernicke korsakoff apgar braden morse hickman groshong broviac quinton mahurkar dobhoff sump penrose hemovac
pleurevac ambu yankauer miami philadelphia aspen portex shiley bivona passy muir venturi mac raynaud raynauds
hashimoto hashimotos sjogren sjogrens kaposi huntington huntingtons tourette paget pagets reiter reiters marfan
klinefelter duchenne zenker meckel hirschprung horner horners bence brudzinski kernig romberg rinne tinel phalen
lhermitte chvostek trousseau mcburney rovsing psoas doppler holter coombs gram ziehl schilling tensilon mantoux
westergren wintrobe ranson apache pugh meld nyha killip timi chads framingham cockcroft gault karnofsky ecog rankin
browder impella levitronix abiomed thoratec heartmate jarvik medtronic guidant stryker zimmer kinair triadyne roto
stryker clinitron lasix coumadin heparin levophed neo dopamine dobutamine milrinone vasopressin nitro propofol
fentanyl versed ativan haldol morphine dilaudid percocet tylenol motrin zantac pepcid protonix prilosec nexium
reglan zofran compazine colace senna dulcolax lactulose kayexalate vanco vancomycin zosyn flagyl levaquin cipro
bactrim keflex ancef cefazolin ceftriaxone rocephin gentamicin tobramycin amikacin imipenem meropenem cefepime
fluconazole diflucan acyclovir ganciclovir insulin lantus humalog novolog glargine nph lopressor metoprolol
labetalol hydralazine captopril lisinopril enalapril amlodipine norvasc diltiazem cardizem digoxin lanoxin
amiodarone cordarone lidocaine procainamide aspirin plavix integrilin reopro aggrastat lovenox fragmin argatroban
bivalirudin angiomax tpa solumedrol decadron prednisone hydrocortisone synthroid levothyroxine albuterol atrovent
ventolin combivent flovent serevent advair spiriva xopenex mucomyst pulmicort nicotine ambien benadryl ativan
seroquel zyprexa risperdal precedex nimbex vecuronium succinylcholine ketamine etomidate narcan flumazenil nipride
nitroglycerin isuprel epinephrine epi norepinephrine phenylephrine neosynephrine kcl magnesium calcium bicarb
bicarbonate albumin hespan ffp prbc platelets cryo ddavp vitamin thiamine folate mvi nepro pulmocare jevity
osmolite glucerna novasource replete peptamen vivonex respalor sandostatin octreotide protonix carafate sucralfate
famotidine ranitidine pantoprazole omeprazole neurontin gabapentin dilantin phenytoin keppra depakote tegretol
trileptal lamictal eliquis xarelto pradaxa jardiance farxiga januvia metformin glipizide lipitor crestor zocor
pravachol zetia entresto coreg carvedilol spironolactone aldactone bumex torsemide zaroxolyn metolazone diuril ace
arb ssri snri nsaid ppi
brady tachy bradycardia tachycardia amio neb nebs stoma ostomy skincare hugger bair
""".split()

# Eponyms that are also common surnames: a name unless a medical head word follows.
EPONYM_SURNAMES = frozenset("""
graves bell bells wilson wilsons adams fisher turner jackson allen allens miller murphy murphys morgan hunt jones blake richmond fowler
fowlers sims stokes becker barrett barretts weber cullen grey hill levine ramsay salem hess pratt wells swan bowen child down
downs philips rule lund berlin tandem heart boston grace dynamic regular impact promote resource boost ensure parkland nines scientific rest
rom ganz
""".split())

# Words after which a capitalised eponym is a medical term, not a person.
EPONYM_HEADS = (
    "disease", "diseases", "syndrome", "sign", "signs", "palsy", "catheter", "cath", "tube", "drain", "drains",
    "score", "scale", "criteria", "test", "position", "reflex", "phenomenon", "classification", "grade",
    "stage", "maneuver", "manoeuvre", "blade", "bag", "bed", "collar", "line", "lines", "procedure", "operation",
    "triad", "ulcer", "esophagus", "oesophagus", "lymphoma", "sarcoma", "tumor", "tumour", "fracture", "node",
    "nodes", "respiration", "respirations", "breathing", "murmur", "pump", "valve", "mask", "suction", "clamp",
    "filter", "balloon", "fistula", "shunt", "diverticulum", "cyst", "cysts", "disorder", "thyroiditis",
    "anemia", "anaemia", "encephalopathy", "dementia", "hypothesis", "cycle", "law", "equation", "formula",
)

# Race words that are also surnames, and the person nouns after which they describe, not name:
# "a 46-year-old White woman", "Black male".
DESCRIPTOR_SURNAMES = frozenset({"white", "black"})
PERSON_NOUNS = frozenset("""
woman women man men female females male males gentleman gentlemen lady ladies boy boys girl girls patient pt
infant child adult individual person
""".split())

# Charting vocabulary and other capitalised non-names common in nursing notes.
CHART_WORDS = """
pt pts patient patients plan neuro resp cv gi gu id heme endo skin social psych access lines labs lab meds
aware notified paged called updated informed discussed spoke family wife husband son daughter dtr sister brother
mother father mom dad friend niece nephew cousin aunt uncle grandson granddaughter proxy hcp
note nursing nsg addendum admission admit admitted transfer transferred floor unit icu micu sicu ccu csru ed er
team attending resident fellow intern rn md np pa rrt crna lpn cna sw pt ot slp
alert oriented awake lethargic sedated intubated extubated vent trach ett ngt ogt peg picc cvl aline art
stable unstable tolerating tolerated remains remain continues continue cont monitor monitoring follow
yellow clear cloudy amber bloody red pink tan serous sanguinous
stool urine sputum secretions drainage dressing dsg drsg site sites wound
am pm hs hrs hr bp rr sat sats temp tmax afebrile febrile
mg mcg meq ml cc units gm kg lb liters
day days night nights today tonight tomorrow yesterday morning evening afternoon shift
north south east west left right bilateral bilat upper lower
monday tuesday wednesday thursday friday saturday sunday
january february march april may june july august september october november december
jan feb mar apr jun jul aug sep sept oct nov dec
christmas easter thanksgiving
english spanish italian portuguese russian chinese cantonese mandarin haitian creole french german greek
catholic jewish christian muslim baptist methodist
god lord jesus christ
med medical hospital center clinic health general memorial
abd sx misc freq afeb hep reg levo spont wean vt ros lad max min ho bipap cpap simv imv psv peep carevue careview
pager lungs coarse pulmonary cardiac renal hepatic neurologic integ integument skin mouth oral nasal cannula
mask trach collar vent ventilator rehab prox dist ant post lat med sup inf lt rt abx antibx gtt gtts drip
tf tpn ppn ngt peg ogt jp ct mri cxr ekg ecg echo tee cath eeg emg kub ua ucx bcx hct hgb wbc plt inr ptt bun
creat cr lytes abg vbg mvo svo sao fio ie ps tv rr hr sbp dbp map cvp pcwp pap svr ci co rvad lvad iabp
nsr sr st sb af afib aflutter vt vf pea pvc pac pacs pvcs svt lbbb rbbb avb ivcd stemi nstemi
npo po iv im sc sq pr prn qd bid tid qid qhs qam qpm ac pc hs ss stat
comfort effort support report transport review overview interview bedside outside inside beside baseline
osh ew ed er ob gyn ent gi gu id heme onc nephro neuro cards pulm surg ortho plastics urology derm psych
sats sat resp rate rhythm sounds sound breath breaths clear diminished crackles rales rhonchi wheezes
stable unstable critical guarded fair good poor
nystatin mesalamine aloe vesta sarna eucerin duoderm allevyn mepilex tegaderm xeroform kerlix ace
crit hct wedge troponin trop maps means given cool tol rounds working arrived chest peripheral breathing
""".split()


def _faker_names() -> tuple[frozenset[str], frozenset[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for loc in NAME_LOCALES:
        try:
            mod = importlib.import_module(f"faker.providers.person.{loc}")
        except ImportError:
            continue
        prov = mod.Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            vals = getattr(prov, attr, None)
            if vals:
                first.update(v.lower() for v in vals)
        vals = getattr(prov, "last_names", None)
        if vals:
            last.update(v.lower() for v in vals)
    # compound names ("Smith-Jones") are matched word by word
    first = {w for n in first for w in n.replace("-", " ").split() if len(w) > 1}
    last = {w for n in last for w in n.replace("-", " ").split() if len(w) > 1}
    return frozenset(first), frozenset(last)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    return _faker_names()[0]


@lru_cache(maxsize=1)
def last_names() -> frozenset[str]:
    return _faker_names()[1]


@lru_cache(maxsize=1)
def all_names() -> frozenset[str]:
    return first_names() | last_names()


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Common English words (lower case) that are risky as stand-alone names."""
    words: set[str] = set()
    try:
        from faker.providers.lorem.en_US import Provider as Lorem

        words.update(w.lower() for w in Lorem.word_list)
    except ImportError:  # pragma: no cover
        pass
    try:
        from spacy.lang.en.stop_words import STOP_WORDS

        words.update(STOP_WORDS)
    except ImportError:  # pragma: no cover
        pass
    words.update(CHART_WORDS)
    words.update(("brown", "white", "black", "green", "gray", "grey", "rose", "golden", "silver", "young", "will",
                  "may", "hope", "faith", "joy", "grace", "bill", "mark", "frank", "rich", "long", "short", "little",
                  "hall", "wall", "ward", "lane", "hill", "wood", "rice", "price", "page", "bush", "banks", "cross"))
    return frozenset(words)


@lru_cache(maxsize=1)
def medical_words() -> frozenset[str]:
    return frozenset(MEDICAL_WORDS)


@lru_cache(maxsize=1)
def ordinary_words() -> frozenset[str]:
    """Words the clinical corpora write in lower case (resources/lowercase_words.txt): capitalised
    at a sentence start or by a fill ("Noted", "Bases", "Discomfort", "Pad 70") they are still
    not a place or a ward.  Place names ("London", "Florida") are never written in lower case."""
    from notesynth.resources import word_list

    return word_list("lowercase_words.txt")


@lru_cache(maxsize=1)
def ordinary_non_names() -> frozenset[str]:
    """Ordinary words that are no one's name in any list: never the edge of a person entity ("Ordered Cp")."""
    return ordinary_words() - all_names()


@lru_cache(maxsize=1)
def blocked_words() -> frozenset[str]:
    """Words never taken as a name on dictionary evidence alone."""
    return common_words() | medical_words()


@lru_cache(maxsize=1)
def street_suffixes() -> frozenset[str]:
    out = {"street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "drive", "dr", "lane", "ln", "way",
           "court", "ct", "place", "pl", "terrace", "circle", "highway", "hwy", "parkway", "pkwy", "square", "sq"}
    try:
        from faker.providers.address.en_US import Provider as Addr

        out.update(s.lower() for s in Addr.street_suffixes)
    except ImportError:  # pragma: no cover
        pass
    return frozenset(out)


@lru_cache(maxsize=1)
def us_states() -> tuple[frozenset[str], frozenset[str]]:
    names: set[str] = set()
    abbr: set[str] = set()
    try:
        from faker.providers.address.en_US import Provider as Addr

        names.update(Addr.states)
        abbr.update(Addr.states_abbr)
    except ImportError:  # pragma: no cover
        pass
    return frozenset(names), frozenset(abbr)


CITY_SUFFIXES = ("town", "ton", "land", "ville", "berg", "burg", "burgh", "borough", "boro", "bury", "view", "port",
                 "mouth", "stad", "furt", "chester", "fort", "haven", "side", "shire", "field", "ford", "wood",
                 "dale", "mont", "polis", "ridge", "springs")
CITY_PREFIXES = ("North", "East", "West", "South", "New", "Lake", "Port", "Fort", "Mount", "San", "Santa", "Los",
                 "Las", "El", "Saint", "St.", "Palm", "Glen", "Grand")

# Large US cities (well-known gazetteer; not drawn from any benchmark file).
US_CITIES = """
New York|Los Angeles|Chicago|Houston|Phoenix|Philadelphia|San Antonio|San Diego|Dallas|San Jose|Austin|Jacksonville|
Fort Worth|Columbus|Charlotte|San Francisco|Indianapolis|Seattle|Denver|Washington|Boston|El Paso|Nashville|Detroit|
Oklahoma City|Portland|Las Vegas|Memphis|Louisville|Baltimore|Milwaukee|Albuquerque|Tucson|Fresno|Mesa|Sacramento|
Atlanta|Kansas City|Colorado Springs|Omaha|Raleigh|Miami|Long Beach|Virginia Beach|Oakland|Minneapolis|Tulsa|Tampa|
Arlington|New Orleans|Wichita|Cleveland|Bakersfield|Aurora|Anaheim|Honolulu|Santa Ana|Riverside|Corpus Christi|
Lexington|Henderson|Stockton|Saint Paul|St. Paul|Cincinnati|St. Louis|Saint Louis|Pittsburgh|Greensboro|Lincoln|
Anchorage|Plano|Orlando|Irvine|Newark|Durham|Chula Vista|Toledo|Fort Wayne|St. Petersburg|Laredo|Jersey City|
Chandler|Madison|Lubbock|Scottsdale|Reno|Buffalo|Gilbert|Glendale|North Las Vegas|Winston-Salem|Chesapeake|Norfolk|
Fremont|Garland|Irving|Hialeah|Richmond|Boise|Spokane|Baton Rouge|Tacoma|San Bernardino|Modesto|Fontana|Des Moines|
Moreno Valley|Santa Clarita|Fayetteville|Birmingham|Oxnard|Rochester|Port St. Lucie|Grand Rapids|Huntsville|
Salt Lake City|Frisco|Yonkers|Amarillo|Glendale|Huntington Beach|McKinney|Montgomery|Augusta|Akron|Little Rock|
Tempe|Columbus|Overland Park|Grand Prairie|Tallahassee|Cape Coral|Mobile|Knoxville|Shreveport|Worcester|Ontario|
Vancouver|Sioux Falls|Chattanooga|Brownsville|Fort Lauderdale|Providence|Newport News|Rancho Cucamonga|Santa Rosa|
Peoria|Oceanside|Elk Grove|Salem|Pembroke Pines|Eugene|Garden Grove|Cary|Fort Collins|Corona|Springfield|Jackson|
Alexandria|Hayward|Clarksville|Lakewood|Lancaster|Salinas|Palmdale|Hollywood|Springfield|Macon|Sunnyvale|Pomona|
Killeen|Escondido|Pasadena|Naperville|Bellevue|Joliet|Murfreesboro|Midland|Rockford|Paterson|Savannah|Bridgeport|
Torrance|McAllen|Syracuse|Surprise|Denton|Roseville|Thornton|Miramar|Mesquite|Olathe|Dayton|Carrollton|Waco|
Orange|Fullerton|Charleston|West Valley City|Visalia|Hampton|Gainesville|Warren|Coral Springs|Cedar Rapids|
Round Rock|Sterling Heights|Kent|Columbia|Santa Clara|New Haven|Stamford|Concord|Elizabeth|Athens|Thousand Oaks|
Lafayette|Simi Valley|Topeka|Norman|Fargo|Wilmington|Abilene|Odessa|Pearland|Victorville|Hartford|Vallejo|
Allentown|Berkeley|Richardson|Arvada|Ann Arbor|Cambridge|Sugar Land|Lansing|Evansville|College Station|Fairfield|
Clearwater|Beaumont|Independence|Provo|West Jordan|Murrieta|Palm Bay|El Monte|Carlsbad|Charleston|Temecula|
Brooklyn|Bronx|Manhattan|Queens|Staten Island|Harlem|Worcester|Lowell|Quincy|Brockton|Framingham|Somerville|
Burlington|Manchester|Nashua|Portland|Bangor|Albany|Trenton|Camden|Wilmington|Annapolis|Bethesda|Scranton|
""".replace("\n", "").split("|")
US_CITIES = tuple(c.strip() for c in US_CITIES if c.strip())
