"""Vocabularies of the synthetic data generator.

These lists are what `lead_scoring.synthetic.generate` draws raw values from. They are
public so that the dbt seeds (country names, job titles, URL patterns) can be
checked against what the generator actually writes.
"""

from __future__ import annotations


# (ISO-2 code, English name, relative weight). A handful of countries carry most
# leads; the rest form a long tail.
COUNTRIES: tuple[tuple[str, str, float], ...] = (
    ("US", "United States", 30.0),
    ("GB", "United Kingdom", 9.0),
    ("DE", "Germany", 8.0),
    ("FR", "France", 6.0),
    ("CA", "Canada", 5.0),
    ("IN", "India", 5.0),
    ("AU", "Australia", 4.0),
    ("NL", "Netherlands", 3.0),
    ("BR", "Brazil", 3.0),
    ("ES", "Spain", 3.0),
    ("IT", "Italy", 2.5),
    ("SE", "Sweden", 2.0),
    ("JP", "Japan", 2.0),
    ("SG", "Singapore", 1.5),
    ("IE", "Ireland", 1.5),
    ("CH", "Switzerland", 1.5),
    ("MX", "Mexico", 1.2),
    ("PL", "Poland", 1.2),
    ("BE", "Belgium", 1.0),
    ("DK", "Denmark", 1.0),
    ("NO", "Norway", 0.8),
    ("FI", "Finland", 0.8),
    ("AT", "Austria", 0.8),
    ("PT", "Portugal", 0.7),
    ("ZA", "South Africa", 0.7),
    ("NZ", "New Zealand", 0.6),
    ("IL", "Israel", 0.6),
    ("AE", "United Arab Emirates", 0.5),
    ("AR", "Argentina", 0.5),
    ("CL", "Chile", 0.4),
    ("CO", "Colombia", 0.4),
    ("KR", "South Korea", 0.4),
    ("CN", "China", 0.4),
    ("TR", "Turkey", 0.3),
    ("CZ", "Czech Republic", 0.3),
    ("RO", "Romania", 0.3),
    ("GR", "Greece", 0.3),
    ("PH", "Philippines", 0.3),
    ("NG", "Nigeria", 0.3),
    ("HU", "Hungary", 0.2),
    ("VN", "Vietnam", 0.2),
    ("ID", "Indonesia", 0.2),
    ("MY", "Malaysia", 0.2),
    ("TH", "Thailand", 0.2),
    ("KE", "Kenya", 0.2),
    ("EG", "Egypt", 0.2),
)

# Country values no mapping can resolve (written only as dirt).
UNMAPPABLE_COUNTRIES: tuple[str | None, ...] = ("Atlantis", "Elbonia", "", None)

SENIORITIES: tuple[str, ...] = (
    "c_level",
    "vp",
    "director",
    "manager",
    "individual_contributor",
    "student",
    "unknown",
)

# (job title, seniority, relative weight): skewed towards individual roles.
JOB_TITLES: tuple[tuple[str, str, float], ...] = (
    ("CEO", "c_level", 1.0),
    ("Chief Executive Officer", "c_level", 0.4),
    ("Chief Marketing Officer", "c_level", 0.6),
    ("CTO", "c_level", 0.6),
    ("Chief Revenue Officer", "c_level", 0.3),
    ("CFO", "c_level", 0.3),
    ("Founder", "c_level", 0.6),
    ("VP Sales", "vp", 1.0),
    ("VP Marketing", "vp", 1.0),
    ("Vice President of Engineering", "vp", 0.6),
    ("VP of Operations", "vp", 0.4),
    ("Director of IT", "director", 1.2),
    ("Director of Marketing", "director", 1.2),
    ("Head of Marketing", "director", 1.0),
    ("Head of Growth", "director", 0.6),
    ("Sales Director", "director", 0.6),
    ("Marketing Manager", "manager", 3.0),
    ("Sales Manager", "manager", 2.0),
    ("IT Manager", "manager", 2.0),
    ("Product Manager", "manager", 2.0),
    ("Engineering Manager", "manager", 1.2),
    ("Demand Generation Manager", "manager", 1.0),
    ("Software Engineer", "individual_contributor", 4.0),
    ("Senior Software Engineer", "individual_contributor", 2.5),
    ("Data Analyst", "individual_contributor", 2.5),
    ("Analyst", "individual_contributor", 2.5),
    ("Marketing Specialist", "individual_contributor", 2.5),
    ("Sales Representative", "individual_contributor", 2.0),
    ("Consultant", "individual_contributor", 2.0),
    ("Data Scientist", "individual_contributor", 1.5),
    ("Designer", "individual_contributor", 1.0),
    ("Student", "student", 1.5),
    ("Intern", "student", 1.0),
    ("Graduate Student", "student", 0.5),
    ("Other", "unknown", 0.6),
    ("", "unknown", 0.6),
)

INDUSTRIES: tuple[tuple[str, float], ...] = (
    ("software", 20.0),
    ("financial services", 10.0),
    ("healthcare", 9.0),
    ("manufacturing", 9.0),
    ("retail", 7.0),
    ("consulting", 6.0),
    ("education", 6.0),
    ("government", 4.0),
    ("telecommunications", 4.0),
    ("media", 4.0),
    ("non-profit", 3.0),
    ("energy", 3.0),
    ("transportation", 3.0),
    ("real estate", 3.0),
    ("hospitality", 2.0),
    ("agriculture", 1.0),
)

# (lead source, weight, ((campaign id, mean daily spend), ...)).
LEAD_SOURCES: tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...] = (
    ("organic_search", 25.0, (("cmp-seo-content", 120.0),)),
    (
        "paid_search",
        18.0,
        (
            ("cmp-ps-brand", 300.0),
            ("cmp-ps-generic", 650.0),
            ("cmp-ps-competitor", 250.0),
        ),
    ),
    (
        "paid_social",
        12.0,
        (("cmp-social-linkedin", 500.0), ("cmp-social-meta", 200.0)),
    ),
    (
        "webinar",
        9.0,
        (("cmp-webinar-monthly", 90.0), ("cmp-webinar-partner", 60.0)),
    ),
    ("referral", 8.0, (("cmp-referral-program", 40.0),)),
    (
        "events",
        8.0,
        (("cmp-events-tradeshow", 700.0), ("cmp-events-meetup", 80.0)),
    ),
    (
        "content_syndication",
        10.0,
        (("cmp-synd-techtarget", 260.0), ("cmp-synd-g2", 150.0)),
    ),
    ("direct", 10.0, (("cmp-direct", 0.0),)),
)

PERSONAL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 45.0),
    ("yahoo.com", 15.0),
    ("hotmail.com", 12.0),
    ("outlook.com", 12.0),
    ("icloud.com", 6.0),
    ("aol.com", 3.0),
    ("gmx.de", 3.0),
    ("protonmail.com", 2.0),
    ("live.com", 2.0),
)

FIRST_NAMES: tuple[str, ...] = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda",
    "David", "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph",
    "Jessica", "Thomas", "Sarah", "Carlos", "Karen", "Daniel", "Lisa", "Matthew",
    "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Priya", "Emily", "Wei",
    "Fatima", "Lukas", "Sofia", "Hiroshi", "Chloe", "Mateo", "Anna", "Omar", "Lea",
)

LAST_NAMES: tuple[str, ...] = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
    "Rodriguez", "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson",
    "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
    "White", "Harris", "Sanchez", "Clark", "Lewis", "Robinson", "Walker", "Patel",
    "Mueller", "Schmidt", "Dubois", "Rossi", "Tanaka", "Kim", "Nguyen", "Silva",
    "Kowalski",
)

COMPANY_WORDS: tuple[str, ...] = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Hooli", "Vandelay",
    "Wonka", "Tyrell", "Cyberdyne", "Aperture", "Massive", "Blue", "North",
    "Bright", "Nova", "Peak", "Silver", "Iron", "Green", "Quantum", "Vertex",
    "Summit", "Atlas", "Orbit", "Pioneer", "Harbor", "Cedar", "Falcon", "Lumen",
)

COMPANY_NOUNS: tuple[str, ...] = (
    "Analytics", "Systems", "Labs", "Health", "Bank", "Logistics", "Retail",
    "Media", "Energy", "Foods", "Robotics", "Software", "Capital", "Networks",
    "Solutions", "Partners", "Dynamics", "Industries", "Cloud", "Security",
)

COMPANY_SUFFIXES: tuple[str, ...] = ("", " Inc", " GmbH", " Ltd", " LLC", " Corp")

DOMAIN_TLDS: tuple[str, ...] = (".com", ".com", ".com", ".io", ".de", ".co.uk", ".net")

# The raw types the generator writes, as a marketing platform exports them:
# the contract's fourteen (page views are re-typed by URL in staging, so the
# re-typed names are not written) plus one type no rule knows, which staging
# must keep. Which types are known is data (seeds/activity_types.csv); a test
# checks that the seed holds every type written here but chat_message.
UNKNOWN_ACTIVITY_TYPE = "chat_message"
EMAIL_ACTIVITY_TYPES: tuple[str, ...] = (
    "email_open", "email_click", "email_bounce", "unsubscribe",
)
# What a lead does on its own initiative (drawn with per-segment weights).
INTENT_ACTIVITY_TYPES: tuple[str, ...] = (
    "page_view",
    "content_download",
    "webinar_registration",
    "webinar_attendance",
    "newsletter_signup",
    "form_submission",
    "demo_request",
    "contact_request",
    "trial_signup",
    "event_attendance",
    UNKNOWN_ACTIVITY_TYPE,
)
ACTIVITY_TYPES: tuple[str, ...] = EMAIL_ACTIVITY_TYPES + INTENT_ACTIVITY_TYPES

# Page-view URL paths by category; every page view gets one of these.
PAGE_URLS: dict[str, tuple[str, ...]] = {
    "pricing": ("/pricing", "/pricing?plan=pro", "/pricing/enterprise"),
    "product": (
        "/product/lead-scoring",
        "/product/analytics",
        "/product/integrations",
    ),
    "features": ("/features", "/features/automation"),
    "careers": ("/careers", "/careers/openings/data-engineer"),
    "blog": (
        "/blog/what-is-an-mql",
        "/blog/lead-scoring-models",
        "/blog/speed-to-lead",
        "/blog/marketing-ops-stack",
    ),
    "docs": ("/docs/getting-started", "/docs/api", "/docs/security"),
    "home": ("/", "/about", "/customers"),
}
URL_HOST = "https://example.com"

CONTENT_ASSETS: tuple[str, ...] = (
    "ebook-lead-scoring-101.pdf",
    "case-study-globex-bank.pdf",
    "whitepaper-revenue-operations.pdf",
    "report-state-of-b2b-marketing-2026.pdf",
    "checklist-mql-definition.pdf",
)
WEBINAR_ASSETS: tuple[str, ...] = (
    "webinar-scoring-best-practices",
    "webinar-product-tour",
    "webinar-partner-roundtable",
)
EVENT_ASSETS: tuple[str, ...] = ("saas-summit-2026", "local-meetup", "partner-day")
EMAIL_CAMPAIGNS: tuple[str, ...] = ("em-newsletter", "em-nurture", "em-product-news")

SALES_ACTIVITY_TYPES: tuple[str, ...] = ("call", "email", "meeting")

STATUSES: tuple[str, ...] = (
    "sales_accepted",
    "sales_rejected",
    "recycled",
    "disqualified",
)
STATUS_REASONS: dict[str, tuple[str | None, ...]] = {
    "sales_accepted": (None,),
    "sales_rejected": ("no budget", "bad timing", "no authority", "No Budget"),
    "recycled": ("not ready", "went cold", "Bad Timing"),
    "disqualified": ("competitor", "student", "job seeker", "wrong geography"),
}
UNKNOWN_STATUSES: tuple[str, ...] = ("on hold", "On Hold", "pending review", "nurture")

OPEN_STAGES: tuple[str, ...] = ("discovery", "proposal", "negotiation")

TRUE_FLAGS: tuple[str, ...] = ("true", "TRUE", "True", "t", "1", "yes", "Y")
FALSE_FLAGS: tuple[str, ...] = ("false", "FALSE", "False", "f", "0", "no")

JUNK_NUMBERS: tuple[str, ...] = ("1,200", "~500", "n/a", "$5M", "", "unknown")
JUNK_TIMESTAMPS: tuple[str | None, ...] = (
    "not a date",
    "2025-02-30 10:00:00",
    "31/12/2025",
    "",
    None,
    "2026-13-01 09:00:00",
    "N/A",
)
JUNK_AMOUNTS: tuple[str | None, ...] = ("abc", "-50", "", None, "n/a", "NaN", "-12.75")
BLANKS: tuple[str | None, ...] = ("", None, "  ")
