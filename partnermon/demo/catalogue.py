"""What the demo practice is made of: its people, its partners and their touchpoints, and the words used to
invent more partners and clients when a benchmark asks for more than the named cast.

Plain data, no database. Every name is invented and every address is at a ``.example`` domain (reserved,
never delivered); phone numbers are from Ofcom's ranges kept for drama (020 7946 0xxx, 07700 900xxx), so the
demo can never point anyone at a real company, inbox or phone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

# The stories the data must tell (see partnermon.demo's docstring); "" is ordinary noise.
CLAIMS_DECLINE = "claims_decline"      # an insurer's claims portal getting slowly worse
CONTACT_LOST = "contact_lost"          # a fund manager's contact page lost its phone number
NIGHT_OUTAGE = "night_outage"          # a long outage, mostly outside business hours
DAY_OUTAGE = "day_outage"              # a shorter outage at 11:00 on a weekday, all in business hours
QUIET = "quiet"                        # a partner with too little feedback to score

PRACTICE_NAME = "Harbour Demo Advice"


@dataclass(frozen=True)
class Person:
    local: str            # the part of the email address before the @
    name: str
    role: str


PEOPLE: tuple[Person, ...] = (
    Person("hannah.reid", "Hannah Reid", "owner"),
    Person("tom.okafor", "Tom Okafor", "adviser"),
    Person("priya.shah", "Priya Shah", "adviser"),
    Person("liam.doyle", "Liam Doyle", "adviser"),
    Person("grace.lin", "Grace Lin", "viewer"),
)


@dataclass(frozen=True)
class TouchpointSpec:
    name: str
    moment: str                       # a default moment-of-truth key
    path: str | None = "/"            # under the partner's website; None for an offline touchpoint
    kind: str = "http"                # the probe's kind, when it has a web address
    median_ms: float = 350.0          # typical response time on a quiet day
    story: str = ""


@dataclass(frozen=True)
class PartnerSpec:
    name: str
    category: str
    domain: str                       # without the .example
    exposure: int
    manager: str
    touchpoints: tuple[TouchpointSpec, ...]
    story: str = ""
    # Share of dissatisfied clients on an ordinary day: partners differ, as they do in life.
    dissatisfaction: float = 0.09
    notes: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def website(self) -> str:
        return f"https://www.{self.domain}.example/"

    @property
    def manager_email(self) -> str:
        return f"{self.manager.lower().replace(' ', '.')}@{self.domain}.example"


T = TouchpointSpec
# The practice's own touchpoints (issue 20): probed and asked about like a partner's, never ranked among them.
OWN_PRACTICE = PartnerSpec(PRACTICE_NAME, "other", "harbour-demo-advice", 150, "", (
    T("Booking page", "conversion", "/book", "http", 280),
    T("Our website", "opening", "/", "http", 220),
), "", 0.05, "The practice's own touchpoints.")
NAMED_PARTNERS: tuple[PartnerSpec, ...] = (
    PartnerSpec("Northgate Mutual", "insurer", "northgate-mutual", 340, "Fiona Marsh", (
        T("Claims portal", "claim", "/claims", "content", 450, CLAIMS_DECLINE),
        T("Policy documents", "service", "/account/documents", "http", 380),
        T("Quote and apply", "conversion", "/quote", "http", 520),
        T("Renewal notice", "renewal", None),
        T("Complaints line", "complaint", None),
    ), CLAIMS_DECLINE, 0.10, "Income protection and critical illness for most of our protection clients."),
    PartnerSpec("Solent Life Assurance", "insurer", "solent-life", 210, "Marcus Webb", (
        T("Claims form", "claim", "/claims/start", "http", 420),
        T("Customer login", "service", "/login", "tls", 160),
        T("Contact page", "opening", "/contact", "content", 300),
        T("Reinstatement", "return", None),
    ), "", 0.08),
    PartnerSpec("Kestrel Park Investments", "fund_manager", "kestrel-park", 260, "Imogen Hale", (
        T("Contact us", "opening", "/contact-us", "content", 290, CONTACT_LOST),
        T("Fund factsheets", "opening", "/funds", "http", 410),
        T("Investor portal", "service", "/investor/login", "http", 560),
        T("Transfer out", "departure", None),
    ), CONTACT_LOST, 0.08, "Core equity and multi-asset funds."),
    PartnerSpec("Ashdown Asset Management", "fund_manager", "ashdown-am", 150, "Rupert Ellis", (
        T("Investor portal", "service", "/portal", "http", 480),
        T("Fund prices", "service", "/prices", "http", 260),
        T("Onboarding", "conversion", "/invest/apply", "http", 610),
    ), "", 0.07),
    PartnerSpec("Wrapline Platform", "platform", "wrapline", 480, "Chloe Barnes", (
        T("Client login", "service", "/login", "http", 340, NIGHT_OUTAGE),
        T("Account opening", "conversion", "/open-account", "http", 620),
        T("Transfers", "departure", "/transfers", "http", 450),
        T("Login certificate", "service", "/", "tls", 140),
    ), NIGHT_OUTAGE, 0.09, "Our main platform: ISAs, SIPPs and general investment accounts."),
    PartnerSpec("Meridian Wealth Platform", "platform", "meridian-wealth", 190, "Daniel Price", (
        T("Client portal", "service", "/client", "http", 390),
        T("Statements", "service", "/statements", "http", 330),
        T("Help centre", "opening", "/help", "content", 280),
    ), "", 0.07),
    PartnerSpec("Copperfield Building Society", "lender", "copperfield-bs", 230, "Aisha Grant", (
        T("Online banking", "service", "/online-banking", "http", 300, DAY_OUTAGE),
        T("Mortgage application", "conversion", "/mortgages/apply", "http", 580),
        T("Hardship support", "claim", None),
    ), DAY_OUTAGE, 0.10),
    PartnerSpec("Brightwater Home Loans", "lender", "brightwater-loans", 35, "Owen Carter", (
        T("Rate switch", "renewal", "/rate-switch", "http", 470),
        T("Contact page", "opening", "/contact", "content", 310),
        T("Redemption statement", "departure", None),
        T("Recommend a friend", "advocacy", None),
    ), QUIET, 0.08, "New to our panel this year."),
)

# For partners beyond the named eight (benchmarks): made-up names from these parts, and touchpoints like
# the ones a partner of that category would have.
NAME_PARTS = ("Alder", "Beacon", "Calder", "Dunmore", "Elmstead", "Fairholm", "Glenrock", "Hawthorn", "Ivybridge",
              "Juniper", "Kingsmere", "Larchfield", "Millbrook", "Northwood", "Oakhurst", "Pennant", "Quarry Hill",
              "Redcliffe", "Stonebridge", "Thornbury", "Upwell", "Vale", "Westmoor", "Yarrow")
CATEGORY_SUFFIX = {"insurer": ("Assurance", "Insurance", "Mutual", "Life"),
                   "fund_manager": ("Investors", "Asset Management", "Fund Managers", "Capital"),
                   "platform": ("Platform", "Wrap", "Invest"),
                   "lender": ("Building Society", "Home Loans", "Mortgages")}
CATEGORY_TOUCHPOINTS: dict[str, tuple[TouchpointSpec, ...]] = {
    "insurer": (T("Claims form", "claim", "/claims", "http", 450), T("Customer login", "service", "/login", "tls", 170),
                T("Quote", "conversion", "/quote", "http", 500), T("Contact page", "opening", "/contact", "content", 300),
                T("Renewal", "renewal", "/renewal", "http", 420), T("Complaints", "complaint", None)),
    "fund_manager": (T("Investor portal", "service", "/portal", "http", 520),
                     T("Contact us", "opening", "/contact", "content", 290),
                     T("Fund documents", "opening", "/funds", "http", 400), T("Transfer out", "departure", None),
                     T("Apply", "conversion", "/apply", "http", 600)),
    "platform": (T("Client login", "service", "/login", "http", 350), T("Account opening", "conversion", "/open", "http", 600),
                 T("Transfers", "departure", "/transfers", "http", 460), T("Certificate", "service", "/", "tls", 150),
                 T("Help centre", "opening", "/help", "content", 280)),
    "lender": (T("Online banking", "service", "/banking", "http", 320), T("Application", "conversion", "/apply", "http", 580),
               T("Rate switch", "renewal", "/switch", "http", 460), T("Hardship support", "claim", None),
               T("Contact page", "opening", "/contact", "content", 300)),
}
# Spare names for touchpoints beyond a category's list (a partner with many products).
EXTRA_TOUCHPOINT_AREAS = ("Pensions", "ISAs", "Protection", "Business", "Mortgages", "Savings", "Retirement", "Trusts")
MANAGER_FIRST = ("Alex", "Sam", "Jo", "Chris", "Morgan", "Jamie", "Robin", "Taylor", "Casey", "Jordan")
MANAGER_LAST = ("Hughes", "Patel", "Walsh", "Osei", "Kaur", "Brennan", "Nowak", "Fraser", "Lloyd", "Baptiste")


def generated_partner(index: int, rng: random.Random) -> PartnerSpec:
    """The ``index``-th invented partner (0 is the first after the named ones): a name, a category and
    the touchpoints such a partner has, with ordinary behaviour."""
    category = ("insurer", "fund_manager", "platform", "lender")[index % 4]
    round_, part = divmod(index, len(NAME_PARTS))
    suffix = CATEGORY_SUFFIX[category][round_ % len(CATEGORY_SUFFIX[category])]
    name = f"{NAME_PARTS[part]} {suffix}" + (f" {round_ + 1}" if round_ >= len(CATEGORY_SUFFIX[category]) else "")
    domain = name.lower().replace(" ", "-")
    manager = f"{rng.choice(MANAGER_FIRST)} {rng.choice(MANAGER_LAST)}"
    return PartnerSpec(name, category, domain, rng.randint(20, 300), manager, CATEGORY_TOUCHPOINTS[category],
                       "", round(rng.uniform(0.06, 0.12), 3))


def extra_touchpoint(partner: PartnerSpec, number: int) -> TouchpointSpec:
    """Another touchpoint for a partner that already has its usual ones (benchmark scale)."""
    base = CATEGORY_TOUCHPOINTS[partner.category][number % len(CATEGORY_TOUCHPOINTS[partner.category])]
    area = EXTRA_TOUCHPOINT_AREAS[(number // len(CATEGORY_TOUCHPOINTS[partner.category])) % len(EXTRA_TOUCHPOINT_AREAS)]
    repeat = number // (len(CATEGORY_TOUCHPOINTS[partner.category]) * len(EXTRA_TOUCHPOINT_AREAS))
    name = f"{base.name} ({area}{f' {repeat + 1}' if repeat else ''})"
    path = None if base.path is None else f"/{area.lower()}{base.path}"
    return TouchpointSpec(name, base.moment, path, base.kind, base.median_ms)


# Clients: invented people with addresses at reserved domains.
CLIENT_FIRST = ("Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Arthur", "Freya", "Leo", "Evie", "Harry",
                "Ruby", "Oscar", "Sophie", "Jack", "Grace", "Charlie", "Lily", "Thomas", "Zara", "Ethan", "Maya",
                "Samuel", "Ellie", "Joseph", "Chloe", "Daniel", "Rosie", "Adam", "Hana", "Yusuf", "Niamh", "Callum",
                "Aoife", "Rhys", "Eilidh", "Kwame", "Mei", "Tobias")
CLIENT_LAST = ("Ashworth", "Bennett", "Clarke", "Dawson", "Evans", "Fletcher", "Gallagher", "Hussain", "Iqbal",
               "Jenkins", "Kowalski", "Lambert", "McAllister", "Nwosu", "O'Connor", "Pritchard", "Quinn", "Roberts",
               "Sandhu", "Thornton", "Underwood", "Varga", "Whitfield", "Yates", "Zielinski", "Abbott", "Brooks",
               "Chaudhry", "Doherty", "Ellison")
CLIENT_DOMAINS = ("mail.example", "inbox.example", "post.example", "homemail.example")
