#include "generate.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- PRNG --- */

/* splitmix64 finaliser: a good 64-bit mixer, used both as a hash and as the
 * step of the per-event / per-story generators below. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t rng_next(rng_t *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return mix64(r->s);
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static double rng_unit(rng_t *r)
{
    return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Skewed towards 0: index k of n with probability ~ falling like 1/sqrt(k). */
static uint32_t rng_skewed(rng_t *r, uint32_t n)
{
    double u = rng_unit(r);
    uint32_t k = (uint32_t)(u * u * n);
    return k < n ? k : n - 1;
}

#define N(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

/* ----------------------------------------------------------- word lists --- */

static const char *const company_head[] = {
    "Aster",   "Brava",    "Cobalt",  "Deltix",  "Ember",   "Fathom",  "Granite", "Helio",
    "Irisa",   "Junova",   "Kestrel", "Lumera",  "Meridia", "Nimbra",  "Orivo",   "Pinnacle",
    "Quantiva", "Rivetta", "Sable",   "Tundra",  "Umbral",  "Vertexa", "Willow",  "Xenova",
    "Yarrow",  "Zephyra",  "Arclight", "Brightwell", "Cinder", "Driftwood", "Echelon", "Flintlock",
    "Glacia",  "Harborline", "Indigo", "Jadeite", "Keystone", "Lattica", "Mosaiq", "Novalis",
    "Onyxia",  "Prismata", "Quillon", "Redwood", "Summitry", "Tessera", "Unitas", "Vantage",
    "Wrenfield", "Zenitha",
};

static const char *const company_tail[] = {
    "Labs",     "Systems",  "Networks",      "AI",        "Robotics",   "Bio",     "Energy",
    "Dynamics", "Software", "Semiconductor", "Analytics", "Health",     "Capital", "Motors",
    "Logistics", "Security", "Cloud",        "Foods",     "Aerospace",  "Therapeutics",
};

static const char *const investors[] = {
    "Northgate Ventures", "Bluewater Capital", "Halcyon Partners", "Ironbridge Growth",
    "Seven Pines Capital", "Altamira Ventures", "Copperleaf Fund",  "Lighthouse Equity",
    "Granary Partners",   "Tidewater Ventures", "Sequent Capital",  "Foxglove Investments",
    "Kingsmere Capital",  "Orchard Street Ventures", "Polaris Peak Partners", "Redstone Growth",
};

static const char *const first_names[] = {
    "Alice",  "Bruno",  "Chen",   "Dana",   "Elena",  "Farid",  "Grace",  "Hiroshi", "Ingrid",
    "José",   "Kavya",  "Liam",   "Marta",  "Nadia",  "Omar",   "Priya",  "Quentin", "Rosa",
    "Samuel", "Tomás",  "Uma",    "Viktor", "Wen",    "Ximena", "Yusuf",  "Zoë",     "Amara",
    "Björn",  "Camille", "Diego", "Esther", "Felix",  "Hana",   "Isaac",  "Jonas",   "Leila",
    "Mateo",  "Nora",   "Oscar",  "Sofia",
};

static const char *const last_names[] = {
    "Abara",   "Becker",  "Castillo", "Dubois",  "Eriksen", "Fischer", "García",  "Hoffmann",
    "Ishikawa", "Jensen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "O'Neill", "Petrov",
    "Quinn",   "Rossi",   "Schmidt",  "Tanaka",  "Usman",   "Varga",   "Walsh",   "Xu",
    "Yilmaz",  "Zhang",   "Adeyemi",  "Brennan", "Costa",   "Müller",  "Novak",   "Okafor",
    "Park",    "Reyes",   "Silva",    "Takahashi", "Nuñez", "Wójcik",  "Haddad",  "Lindgren",
};

static const char *const roles[] = {
    "chief executive", "chief financial officer", "chief technology officer", "co-founder",
    "president", "head of research", "general counsel", "chief operating officer",
};

typedef struct {
    const char *city, *country;
} place_t;

static const place_t places[] = {
    {"San Francisco", "the United States"}, {"New York", "the United States"},
    {"Austin", "the United States"},        {"Seattle", "the United States"},
    {"Boston", "the United States"},        {"Chicago", "the United States"},
    {"Toronto", "Canada"},                  {"Montreal", "Canada"},
    {"London", "Britain"},                  {"Manchester", "Britain"},
    {"Paris", "France"},                    {"Lyon", "France"},
    {"Berlin", "Germany"},                  {"Munich", "Germany"},
    {"Amsterdam", "the Netherlands"},       {"Stockholm", "Sweden"},
    {"Helsinki", "Finland"},                {"Copenhagen", "Denmark"},
    {"Zürich", "Switzerland"},              {"Madrid", "Spain"},
    {"Lisbon", "Portugal"},                 {"Milan", "Italy"},
    {"Warsaw", "Poland"},                   {"Tallinn", "Estonia"},
    {"Dublin", "Ireland"},                  {"Tel Aviv", "Israel"},
    {"Dubai", "the United Arab Emirates"},  {"Nairobi", "Kenya"},
    {"Lagos", "Nigeria"},                   {"Cape Town", "South Africa"},
    {"Bengaluru", "India"},                 {"Mumbai", "India"},
    {"Singapore", "Singapore"},             {"Seoul", "South Korea"},
    {"Tokyo", "Japan"},                     {"Osaka", "Japan"},
    {"Taipei", "Taiwan"},                   {"Shenzhen", "China"},
    {"Sydney", "Australia"},                {"Melbourne", "Australia"},
    {"São Paulo", "Brazil"},                {"Mexico City", "Mexico"},
    {"Buenos Aires", "Argentina"},          {"Santiago", "Chile"},
    {"Jakarta", "Indonesia"},               {"Auckland", "New Zealand"},
};

typedef struct {
    const char *name;        /* sector, lower case unless a proper acronym */
    const char *tag;         /* slug used in tags and repo names */
    const char *words[6];    /* topical phrases */
    const char *product[4];  /* product nouns */
} field_t;

static const field_t fields[] = {
    {"AI", "ai",
     {"large language models", "AI models", "GPU clusters", "inference", "model training", "AI agents"},
     {"assistant", "model", "inference platform", "training cluster"}},
    {"quantum computing", "quantum",
     {"qubits", "error correction", "superconducting processors", "photonic chips",
      "fault-tolerant machines", "cryogenic systems"},
     {"quantum processor", "qubit array", "quantum cloud service", "control system"}},
    {"battery", "batteries",
     {"solid-state cells", "lithium supply", "cathode materials", "grid storage",
      "fast charging", "battery recycling"},
     {"battery cell", "storage system", "charging module", "battery pack"}},
    {"biotech", "biotech",
     {"gene editing", "clinical trials", "drug discovery", "cell therapy", "antibodies",
      "rare diseases"},
     {"therapy", "drug candidate", "diagnostic test", "screening platform"}},
    {"fintech", "fintech",
     {"payments", "digital banking", "lending", "stablecoins", "fraud detection", "card issuing"},
     {"payments app", "banking platform", "card", "lending service"}},
    {"robotics", "robotics",
     {"humanoid robots", "warehouse automation", "robot arms", "autonomous forklifts",
      "machine vision", "surgical robots"},
     {"robot", "robot arm", "automation suite", "vision system"}},
    {"semiconductor", "chips",
     {"AI accelerators", "advanced packaging", "chip fabrication", "high-bandwidth memory",
      "lithography", "foundry capacity"},
     {"accelerator chip", "memory chip", "processor", "chiplet"}},
    {"space", "space",
     {"satellite launches", "reusable rockets", "earth observation", "satellite broadband",
      "lunar landers", "orbital debris"},
     {"rocket", "satellite", "launch vehicle", "lander"}},
    {"climate tech", "climate",
     {"carbon capture", "green hydrogen", "heat pumps", "sustainable aviation fuel",
      "direct air capture", "geothermal power"},
     {"capture plant", "electrolyser", "heat pump", "fuel plant"}},
    {"cybersecurity", "security",
     {"zero-day exploits", "ransomware", "identity security", "endpoint protection",
      "threat intelligence", "cloud security"},
     {"security platform", "threat scanner", "firewall", "identity service"}},
    {"electric vehicle", "ev",
     {"electric cars", "charging networks", "driver assistance", "battery range",
      "electric trucks", "vehicle software"},
     {"electric SUV", "sedan", "charger", "electric truck"}},
    {"cloud", "cloud",
     {"data centres", "cloud regions", "serverless computing", "object storage",
      "managed databases", "edge computing"},
     {"cloud region", "database service", "storage tier", "compute instance"}},
};

static const char *const mascots[] = {
    "Rovers", "Falcons", "United", "Mariners", "Wolves", "Comets", "Athletic", "Harriers",
    "Lions", "Rangers", "Pioneers", "Storm",
};

static const char *const competitions[] = {
    "Continental Cup final", "league title decider", "championship semi-final",
    "national cup quarter-final", "season opener", "derby",
};

static const char *const parties[] = {
    "Progress Alliance", "Civic Union", "Green Renewal", "National Forward", "Social Democrats",
    "Liberal Centre", "People's Front", "Reform Party",
};

static const char *const storms[] = {
    "Storm Arlo", "Storm Bettina", "Storm Caspian", "Storm Delia", "Storm Edmund",
    "Storm Freya", "Storm Gideon", "Storm Helka", "Storm Ivo", "Storm Juno",
};

/* ------------------------------------------------------------- sources --- */

static const char *const src_head[] = {
    "daily",  "metro",  "global", "capital", "coastal", "northern", "evening", "morning",
    "city",   "tech",   "market", "summit",  "harbor",  "pacific",  "atlantic", "frontier",
    "valley", "union",  "central", "open",
};
static const char *const src_tail[] = {
    "ledger", "herald", "wire",    "gazette", "times",   "post",    "dispatch", "observer",
    "report", "journal", "chronicle", "tribune", "signal", "bulletin", "review", "beacon",
};
static const char *const src_tld[] = {".com", ".news", ".net", ".co.uk", ".org", ".io"};

#define N_SOURCES (N(src_head) * N(src_tail)) /* 320 */

/* ----------------------------------------------------------- templates --- */

/* Placeholders, each "{X}" (prefix "^" capitalises the first letter):
 *   C  company            I  second company / investor / acquirer
 *   P  person             Q  second person       O  P's role
 *   L  city               K  country
 *   A  amount             N  a count             M  a percentage
 *   F  sector name        G  sector phrase 1     H  sector phrase 2
 *   R  product noun       V  product version     S  the publisher
 *   T  team 1  U  team 2  X  score  E  competition
 *   Y  party 1  Z  party 2  W  storm             D  weekday */

typedef struct {
    const char *name;
    const char *const *titles;
    uint32_t ntitles;
    const char *const *leads;
    uint32_t nleads;
    const char *const *body;
    uint32_t nbody;
    int business; /* uses the sector, generic business filler */
} category_t;

#define LIST(a) a, N(a)

static const char *const funding_t[] = {
    "{C} raises {A} to scale {G}",
    "{C} raises {A} in round led by {I}",
    "{I} leads {A} investment in {F} startup {C}",
    "{^F} startup {C} lands {A} as investors pile into {G}",
    "{C} closes {A} funding round for {G}",
};
static const char *const funding_l[] = {
    "{C}, a {L}-based {F} company, said on {D} it had raised {A} in a round led by {I}.",
    "{^F} startup {C} has closed a {A} funding round led by {I}, the company announced on {D}.",
    "{C} raised {A} from investors led by {I}, betting that demand for {G} will keep growing.",
};
static const char *const funding_b[] = {
    "The new money values {C} at roughly {M} times its annual revenue, according to people familiar with the deal.",
    "{C} plans to use the proceeds to double its engineering staff and expand its work on {H}.",
    "Existing backers also joined the round, which was oversubscribed, {P} said.",
    "The deal is one of the largest {F} financings this year and follows a string of rounds for companies working on {G}.",
    "Founded in {L}, {C} sells its {R} to manufacturers and research labs in {K} and abroad.",
    "Investors have poured money into {G} as customers move from pilots to production deployments.",
    "{I} said it expected {C} to become a leader in {H} within three years.",
};

static const char *const acq_t[] = {
    "{I} to buy {C} for {A}",
    "{I} agrees to acquire {F} firm {C} in {A} deal",
    "{I} snaps up {C} for {A} to bolster {G} push",
    "{C} sold to {I} for {A}",
};
static const char *const acq_l[] = {
    "{I} has agreed to acquire {C} for {A} in cash and stock, the companies said on {D}.",
    "{I} will buy {L}-based {C} for {A}, its largest acquisition to date.",
    "In a deal valued at {A}, {I} is taking over {C}, a maker of {R}s for {G}.",
};
static const char *const acq_b[] = {
    "The transaction is expected to close in the first half of next year, subject to regulatory approval.",
    "{C} will continue to operate as a separate unit led by {P}, its {O}.",
    "Shares of {I} rose {M} percent in early trading after the announcement.",
    "Analysts said the purchase gives {I} a foothold in {G}, a market it has long tried to enter.",
    "Competition authorities in {K} are expected to review the deal closely.",
    "The price represents a premium of about {M} percent over {C}'s last private valuation.",
    "{C} employs about {N} people, most of them in {L}.",
};

static const char *const launch_t[] = {
    "{C} unveils {R} {V} with focus on {G}",
    "{C} launches {R} {V}",
    "Hands-on: {C}'s new {R} {V} bets on {G}",
    "{C} {R} {V} goes on sale at {A}",
};
static const char *const launch_l[] = {
    "{C} introduced the {R} {V} at an event in {L} on {D}, pitching it as its most capable product yet.",
    "The {R} {V} from {C} goes on sale next month, priced from {A}.",
    "{C} on {D} launched the {R} {V}, aimed at customers working on {G}.",
};
static const char *const launch_b[] = {
    "The company says the new {R} is {M} percent faster than the previous generation.",
    "Early reviewers praised its design but questioned the price.",
    "{P}, {C}'s {O}, said the {V} was built around feedback from customers in {H}.",
    "The launch puts {C} in direct competition with {I}.",
    "Pre-orders opened in {K} and several other markets on the same day.",
    "{C} expects to ship {N},000 units in the first quarter of availability.",
};

static const char *const outage_t[] = {
    "{C} outage knocks services offline across {K}",
    "{C} suffers hours-long outage in {L} region",
    "Outage at {C} disrupts thousands of customers",
    "{C} restores service after major outage",
};
static const char *const outage_l[] = {
    "A failure at {C}'s {L} data centre took down services for thousands of customers on {D}.",
    "Customers of {C} reported errors for about {N} minutes on {D} before the company restored service.",
    "{C} said a faulty configuration change caused an outage that disrupted apps across {K}.",
};
static const char *const outage_b[] = {
    "The company's status page listed problems with {G} and {H}.",
    "Retailers, banks and streaming services that rely on {C} reported failed logins and slow pages.",
    "{P}, {C}'s {O}, apologised and promised a full incident report within a week.",
    "Engineers rolled back the change and traffic returned to normal by evening.",
    "It was the second major disruption at {C} this year.",
    "Customers said the outage showed the risk of depending on a single provider.",
};

static const char *const breach_t[] = {
    "{C} hit by ransomware attack, data of {N} customers exposed",
    "Hackers breach {C}, steal customer records",
    "{C} confirms data breach after ransomware attack",
    "Ransomware gang claims attack on {C}",
};
static const char *const breach_l[] = {
    "{C} said on {D} that hackers had gained access to systems holding data on about {N} customers.",
    "A ransomware group has claimed responsibility for an attack on {C}, which shut down parts of its network in {L}.",
    "{C} confirmed a data breach after attackers encrypted servers and demanded a ransom.",
};
static const char *const breach_b[] = {
    "The company has notified regulators in {K} and hired outside investigators.",
    "Names, email addresses and some payment details may have been taken, {C} said.",
    "{P}, the {O}, said there was no evidence the data had been misused so far.",
    "Security researchers said the attackers exploited a known flaw in remote-access software.",
    "The attack is the latest in a wave of incidents targeting companies that handle {G}.",
    "{C} said it would not pay the ransom.",
};

static const char *const layoffs_t[] = {
    "{C} to cut {N} jobs in restructuring",
    "{C} lays off {M}% of staff as {F} demand slows",
    "{C} announces {N} layoffs, shifts focus to {G}",
    "Layoffs at {C}: {N} roles eliminated",
};
static const char *const layoffs_l[] = {
    "{C} will cut about {N} jobs, or {M} percent of its workforce, the company said on {D}.",
    "{C} is laying off {N} employees as it refocuses on {G}, according to a memo seen by {S}.",
    "{L}-based {C} announced {N} job cuts on {D}, its second round of layoffs this year.",
};
static const char *const layoffs_b[] = {
    "{P}, the {O}, told staff the cuts were painful but necessary to reach profitability.",
    "Affected employees will receive severance and extended health coverage.",
    "The reductions mostly hit sales and support teams, while hiring for {H} continues.",
    "Shares of {C} rose {M} percent after the announcement.",
    "The company expects the restructuring to cost about {A}.",
    "Workers' representatives in {K} criticised the decision.",
};

static const char *const reg_t[] = {
    "Regulators in {K} tighten rules on {G}",
    "{K} proposes new export controls on {G}",
    "New {F} rules in {K} could hit {C}",
    "{K} watchdog opens probe into {C} over {G}",
};
static const char *const reg_l[] = {
    "Authorities in {K} on {D} proposed new rules governing {G}, a move that could affect {C} and its rivals.",
    "The government of {K} announced export controls covering {G}, citing national security.",
    "A regulator in {K} said it had opened an investigation into {C}'s practices in {H}.",
};
static const char *const reg_b[] = {
    "The rules would take effect after a 90-day public comment period.",
    "Industry groups warned that the measures could raise costs and slow investment.",
    "{P}, a senior official, said the aim was to protect consumers without stifling innovation.",
    "{C} said it was reviewing the proposal and would cooperate with the authorities.",
    "Companies found in breach could face fines of up to {M} percent of annual turnover.",
    "Lawmakers in {L} have pushed for tougher oversight of {F} for more than a year.",
};

static const char *const earn_t[] = {
    "{C} revenue jumps {M}% on demand for {G}",
    "{C} beats estimates as {F} sales climb",
    "{C} shares slide after weak outlook",
    "{C} reports record quarter, revenue tops {A}",
};
static const char *const earn_l[] = {
    "{C} reported quarterly revenue of {A} on {D}, up {M} percent from a year earlier.",
    "{C} beat analysts' estimates for the quarter, helped by strong demand for {G}.",
    "Shares of {C} moved sharply after the company issued its outlook for the rest of the year.",
};
static const char *const earn_b[] = {
    "Net income rose {M} percent from a year earlier, the company said.",
    "{P}, the {O}, said orders for its {R} were running ahead of plan.",
    "Analysts had expected slower growth because of weak spending in {K}.",
    "The company raised its full-year forecast and announced a share buyback.",
    "Margins narrowed as {C} spent heavily on {H}.",
    "{C} said it would hire about {N} people next year.",
};

static const char *const partner_t[] = {
    "{C} and {I} team up on {G}",
    "{C} signs multiyear {G} deal with {I}",
    "{I} partners with {C} to bring {R} to {K}",
};
static const char *const partner_l[] = {
    "{C} and {I} announced a partnership on {D} to develop {G} together.",
    "{C} has signed a multiyear agreement with {I}, worth about {A}, covering {G}.",
    "{I} will use {C}'s {R} across its operations in {K} under a new deal.",
};
static const char *const partner_b[] = {
    "Financial terms beyond the headline figure were not disclosed.",
    "The companies will set up a joint team of about {N} engineers in {L}.",
    "{P}, {C}'s {O}, said the deal would speed up work on {H}.",
    "Analysts said the agreement validated {C}'s approach.",
    "The first joint products are expected next year.",
};

static const char *const lawsuit_t[] = {
    "{I} sues {C} over {G} patents",
    "{C} faces lawsuit from {I}",
    "Court rules against {C} in {F} dispute",
};
static const char *const lawsuit_l[] = {
    "{I} filed a lawsuit against {C} in {L} on {D}, alleging infringement of patents on {G}.",
    "{C} has been sued by {I}, which claims the company copied its designs for {R}s.",
    "A court in {L} ruled on {D} that {C} had breached a supply contract with {I}.",
};
static const char *const lawsuit_b[] = {
    "{I} is seeking damages of about {A}.",
    "{C} said the claims were without merit and it would defend itself vigorously.",
    "{P}, a lawyer for {I}, said the case was about protecting years of research.",
    "Legal experts said the outcome could shape how {G} patents are enforced in {K}.",
    "A hearing is scheduled for early next year.",
};

static const char *const research_t[] = {
    "Researchers at {C} report breakthrough in {G}",
    "{C} study claims major advance in {H}",
    "New {F} result from {C} draws praise and skepticism",
};
static const char *const research_l[] = {
    "Scientists at {C} said on {D} they had achieved a significant advance in {G}.",
    "A paper from researchers at {C} and a university in {L} describes a new approach to {H}.",
    "{C} published results showing a {M} percent improvement in {G} over previous methods.",
};
static const char *const research_b[] = {
    "Independent experts said the work was promising but needed to be replicated.",
    "{P}, who led the research, said commercial products could follow within a few years.",
    "The team tested the method on {N} samples.",
    "The findings were posted as a preprint and have not yet been peer reviewed.",
    "The research was partly funded by a grant from the government of {K}.",
};

static const char *const sports_t[] = {
    "{T} beat {U} {X} in {E}",
    "{T} edge past {U} to win {E}",
    "{E}: {T} {X} {U}",
    "Late goal lifts {T} over {U} in {E}",
};
static const char *const sports_l[] = {
    "{T} beat {U} {X} in the {E} in {L} on {D}, sealing a memorable season.",
    "A late strike gave {T} a {X} win over {U} in a tense {E}.",
    "{T} came from behind to defeat {U} {X} in front of a sold-out crowd in {L}.",
};
static const char *const sports_b[] = {
    "{P} scored twice, including the winner in the final minutes.",
    "{Q}, the {U} coach, said his side had paid for missed chances in the first half.",
    "About {N} fans attended the match.",
    "The result moves {T} to the top of the standings with three games left.",
    "{U} had gone unbeaten in their previous {M} matches.",
    "Celebrations continued in {L} long into the night.",
};

static const char *const election_t[] = {
    "{Y} wins {K} election as {P} claims victory",
    "{K} votes: {Y} leads, {Z} concedes",
    "{P} set to become leader after {K} election",
    "Turnout rises in {K} election",
};
static const char *const election_l[] = {
    "The {Y}, led by {P}, won the most seats in {K}'s election on {D}, according to preliminary results.",
    "Voters in {K} handed the {Y} a clear lead, with {M} percent of ballots counted.",
    "{P} of the {Y} declared victory in {K} after the {Z} conceded late on {D}.",
};
static const char *const election_b[] = {
    "Turnout was about {M} percent, higher than at the last election.",
    "{Q}, leader of the {Z}, congratulated the winner and promised a constructive opposition.",
    "Coalition talks are expected to begin in {L} next week.",
    "The campaign was dominated by housing costs, energy prices and migration.",
    "Observers said the vote was orderly, with only minor irregularities reported.",
    "Markets in {K} rose on the result.",
};

static const char *const weather_t[] = {
    "{W} batters {K} with heavy rain and strong winds",
    "{W}: flooding forces evacuations near {L}",
    "{W} leaves {N} homes without power in {K}",
    "Clean-up begins after {W} hits {L}",
};
static const char *const weather_l[] = {
    "{W} brought torrential rain and gusts of more than 100 km/h to {K} on {D}, flooding roads around {L}.",
    "Emergency services near {L} evacuated hundreds of residents as {W} swelled rivers to record levels.",
    "About {N} homes in {K} lost power as {W} swept across the country on {D}.",
};
static const char *const weather_b[] = {
    "Forecasters said the storm was unusually strong for the season, which scientists link to warmer seas.",
    "{P}, the mayor of {L}, urged people to stay indoors.",
    "Rail services and flights were cancelled across the region.",
    "Insurers estimated damage at about {A}.",
    "More rain is expected later in the week, the national weather service warned.",
    "Climate researchers said extreme rainfall events have become more frequent in {K}.",
};

static const category_t categories[] = {
    {"funding", LIST(funding_t), LIST(funding_l), LIST(funding_b), 1},
    {"acquisition", LIST(acq_t), LIST(acq_l), LIST(acq_b), 1},
    {"product_launch", LIST(launch_t), LIST(launch_l), LIST(launch_b), 1},
    {"outage", LIST(outage_t), LIST(outage_l), LIST(outage_b), 1},
    {"breach", LIST(breach_t), LIST(breach_l), LIST(breach_b), 1},
    {"layoffs", LIST(layoffs_t), LIST(layoffs_l), LIST(layoffs_b), 1},
    {"regulation", LIST(reg_t), LIST(reg_l), LIST(reg_b), 1},
    {"earnings", LIST(earn_t), LIST(earn_l), LIST(earn_b), 1},
    {"partnership", LIST(partner_t), LIST(partner_l), LIST(partner_b), 1},
    {"lawsuit", LIST(lawsuit_t), LIST(lawsuit_l), LIST(lawsuit_b), 1},
    {"research", LIST(research_t), LIST(research_l), LIST(research_b), 1},
    {"sports", LIST(sports_t), LIST(sports_l), LIST(sports_b), 0},
    {"election", LIST(election_t), LIST(election_l), LIST(election_b), 0},
    {"weather", LIST(weather_t), LIST(weather_l), LIST(weather_b), 0},
};

/* Relative frequency of each category, same order as above. */
static const uint8_t category_weight[] = {16, 7, 10, 5, 6, 6, 8, 9, 6, 4, 6, 7, 4, 6};

static const char *const field_sentences[] = {
    "Spending on {G} has grown rapidly over the past two years as large customers move beyond pilots.",
    "The {F} sector has attracted record interest from investors and governments alike.",
    "Competition in {G} is intensifying, with start-ups and incumbents racing to secure customers.",
    "Demand for {H} remains strong, though some analysts warn of overcapacity.",
    "{^F} companies in {K} have benefited from public subsidies and a deep pool of engineers.",
    "Supply constraints in {H} have been a bottleneck for the industry this year.",
};

static const char *const quote_sentences[] = {
    "\"This is a pivotal moment for {G},\" said {P}, {C}'s {O}.",
    "\"We have been working towards this for a long time,\" {P} said in a statement.",
    "\"Customers want {H} that simply works,\" {P} told {S}.",
    "\"The numbers speak for themselves,\" said {Q}, an analyst who follows {C}.",
    "\"It is too early to say what this means for the wider market,\" {Q} said.",
};

static const char *const quote_general[] = {
    "\"It has been an extraordinary few days for everyone here,\" said {Q}.",
    "\"We will need time to understand what happened,\" {P} told {S}.",
    "\"People in {L} will remember this for a long time,\" said {Q}, a local resident.",
    "\"Nobody expected it to turn out this way,\" {Q} said.",
};

static const char *const filler_business[] = {
    "{C} did not respond to a request for further comment.",
    "The company was founded in {L} and now has offices in {M} countries.",
    "{^S} was first to report the news earlier on {D}.",
    "Details were first reported by several outlets in {K} before the official announcement.",
    "Industry watchers will be looking for more detail at {C}'s investor day next month.",
};

static const char *const filler_general[] = {
    "Local media in {K} carried the story prominently throughout the day.",
    "{^S} will publish further updates as more information becomes available.",
    "Reporters in {L} said the mood in the city was tense but calm.",
    "Officials are expected to give a fuller account on {D}.",
};

static const char *const weekdays[] = {
    "Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday",
};

/* ----------------------------------------------------------- generator --- */

#define STORY_EVENTS 8                              /* mean events per story */
#define STORY_LIFE_US (2LL * 86400 * 1000000)       /* event time a story lasts */
#define BASE_TIME_US (1727740800LL * 1000000)      /* 2024-10-01T00:00:00Z */

struct generator {
    uint64_t seed;
    uint64_t n_stories;
    uint32_t cat_cumul[N(category_weight)];
    uint32_t cat_total;
    int64_t step_us; /* event time per event */
};

generator_t *generator_new(uint64_t seed, size_t n_stories)
{
    generator_t *g = calloc(1, sizeof(*g));
    if (!g) return NULL;
    g->seed = seed;
    g->n_stories = n_stories ? n_stories : GENERATOR_DEFAULT_STORIES;
    if (g->n_stories > UINT32_MAX / STORY_EVENTS) g->n_stories = UINT32_MAX / STORY_EVENTS;
    uint32_t t = 0;
    for (uint32_t k = 0; k < N(category_weight); k++) {
        t += category_weight[k];
        g->cat_cumul[k] = t;
    }
    g->cat_total = t;
    g->step_us = STORY_LIFE_US / (int64_t)(g->n_stories * STORY_EVENTS);
    if (g->step_us < 1) g->step_us = 1;
    return g;
}

void generator_destroy(generator_t *g)
{
    free(g);
}

typedef struct {
    uint64_t id;
    uint32_t cat, field;
    uint32_t comp_head, comp_tail, investor;
    uint32_t p_first, p_last, q_first, q_last, role;
    uint32_t place, place2;
    uint32_t g_word, h_word, product;
    uint32_t mascot, mascot2, competition, party, party2, storm;
    uint32_t count, percent, goals1, goals2;
    uint32_t vmajor;
    uint32_t amount_units;  /* amount in millions of dollars */
    int comp2_is_company;   /* {I} is a company rather than an investor */
    uint32_t comp2_head, comp2_tail;
    uint32_t repo_kind;
} story_t;

static void story_init(const generator_t *g, uint64_t id, story_t *s)
{
    rng_t r = {mix64(g->seed ^ 0x5354u) ^ mix64(id * 0x9e3779b97f4a7c15ULL + 1)};
    memset(s, 0, sizeof(*s));
    s->id = id;
    uint32_t w = rng_below(&r, g->cat_total), c = 0;
    while (w >= g->cat_cumul[c]) c++;
    s->cat = c;
    s->field = rng_below(&r, N(fields));
    s->comp_head = rng_below(&r, N(company_head));
    s->comp_tail = rng_below(&r, N(company_tail));
    s->investor = rng_below(&r, N(investors));
    s->comp2_head = (s->comp_head + 1 + rng_below(&r, N(company_head) - 1)) % N(company_head);
    s->comp2_tail = rng_below(&r, N(company_tail));
    s->comp2_is_company = (s->cat != 0); /* funding rounds are led by investors */
    s->p_first = rng_below(&r, N(first_names));
    s->p_last = rng_below(&r, N(last_names));
    s->q_first = rng_below(&r, N(first_names));
    s->q_last = (s->p_last + 1 + rng_below(&r, N(last_names) - 1)) % N(last_names);
    s->role = rng_below(&r, N(roles));
    s->place = rng_below(&r, N(places));
    s->place2 = (s->place + 1 + rng_below(&r, N(places) - 1)) % N(places);
    s->g_word = rng_below(&r, 6);
    s->h_word = (s->g_word + 1 + rng_below(&r, 5)) % 6;
    s->product = rng_below(&r, 4);
    s->mascot = rng_below(&r, N(mascots));
    s->mascot2 = (s->mascot + 1 + rng_below(&r, N(mascots) - 1)) % N(mascots);
    s->competition = rng_below(&r, N(competitions));
    s->party = rng_below(&r, N(parties));
    s->party2 = (s->party + 1 + rng_below(&r, N(parties) - 1)) % N(parties);
    s->storm = rng_below(&r, N(storms));
    s->count = 50 + rng_below(&r, 40) * 50;   /* 50 .. 2000 */
    s->percent = 3 + rng_below(&r, 45);
    s->goals1 = 1 + rng_below(&r, 4);
    s->goals2 = rng_below(&r, s->goals1);
    s->vmajor = 2 + rng_below(&r, 14);
    switch (s->cat) {
    case 0: /* funding: $10M .. $2B, skewed small */
        s->amount_units = 10 + rng_skewed(&r, 200) * 10;
        break;
    case 1: /* acquisition: $100M .. $20B */
        s->amount_units = 100 + rng_skewed(&r, 200) * 100;
        break;
    case 2: /* product price in dollars, stored as "millions" = 0 */
        s->amount_units = 0;
        break;
    default:
        s->amount_units = 5 + rng_skewed(&r, 100) * 25;
        break;
    }
    s->repo_kind = rng_below(&r, 4);
}

/* Output with snprintf semantics: counts every byte, stores what fits. */
typedef struct {
    char *buf;
    size_t cap, len;
    char last; /* the last byte put, stored or not */
} out_t;

static inline void put_c(out_t *o, char c)
{
    if (o->len + 1 < o->cap) o->buf[o->len] = c;
    o->len++;
    o->last = c;
}

static void put_raw(out_t *o, const char *s)
{
    size_t n = strlen(s);
    if (o->len + n < o->cap) {
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        if (n) o->last = s[n - 1];
        return;
    }
    while (*s) put_c(o, *s++);
}

/* JSON string content (no quotes). Escapes '"', '\\' and control bytes;
 * UTF-8 passes through unchanged. */
static void put_esc(out_t *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            put_c(o, '\\');
            put_c(o, (char)c);
        } else if (c < 0x20) {
            put_c(o, '\\');
            switch (c) {
            case '\n': put_c(o, 'n'); break;
            case '\t': put_c(o, 't'); break;
            case '\r': put_c(o, 'r'); break;
            default:
                put_c(o, 'u');
                put_c(o, '0');
                put_c(o, '0');
                put_c(o, hex[c >> 4]);
                put_c(o, hex[c & 15]);
            }
        } else {
            put_c(o, (char)c);
        }
    }
}

static void put_u64(out_t *o, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) put_c(o, tmp[--n]);
}

static void put_2d(out_t *o, unsigned v)
{
    put_c(o, (char)('0' + v / 10 % 10));
    put_c(o, (char)('0' + v % 10));
}

/* days since 1970-01-01 -> civil date (H. Hinnant's algorithm). */
static void civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

/* RFC 3339 UTC, whole seconds. */
static void put_time(out_t *o, int64_t us)
{
    int64_t secs = us / 1000000;
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    put_u64(o, (uint64_t)y);
    put_c(o, '-');
    put_2d(o, m);
    put_c(o, '-');
    put_2d(o, d);
    put_c(o, 'T');
    put_2d(o, (unsigned)(rem / 3600));
    put_c(o, ':');
    put_2d(o, (unsigned)(rem / 60 % 60));
    put_c(o, ':');
    put_2d(o, (unsigned)(rem % 60));
    put_c(o, 'Z');
}

/* Lower-case ASCII slug of s: letters and digits, other runs become '-'. */
static void put_slug(out_t *o, const char *s)
{
    int dash = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            if (dash) put_c(o, '-');
            dash = 0;
            put_c(o, (char)c);
        } else if (c >= 'A' && c <= 'Z') {
            if (dash) put_c(o, '-');
            dash = 0;
            put_c(o, (char)(c + 32));
        } else {
            dash = 1;
        }
    }
}

typedef struct {
    const generator_t *g;
    const story_t *s;
    uint32_t source;
    int64_t pub_us;
} ctx_t;

static void source_name(uint32_t k, char *buf, size_t cap)
{
    const char *h = src_head[k % N(src_head)];
    const char *t = src_tail[k / N(src_head) % N(src_tail)];
    const char *tld = src_tld[mix64(k) % N(src_tld)];
    size_t hl = strlen(h), tl = strlen(t), dl = strlen(tld);
    if (hl + tl + dl + 1 > cap) {
        if (cap) buf[0] = '\0';
        return;
    }
    memcpy(buf, h, hl);
    memcpy(buf + hl, t, tl);
    memcpy(buf + hl + tl, tld, dl + 1);
}

static void put_amount(out_t *o, const story_t *s)
{
    uint32_t m = s->amount_units;
    if (s->cat == 2) { /* a product price */
        put_c(o, '$');
        put_u64(o, 199 + (s->id % 12) * 100);
        return;
    }
    put_c(o, '$');
    if (m >= 1000) {
        put_u64(o, m / 1000);
        if (m % 1000 >= 100) {
            put_c(o, '.');
            put_u64(o, m % 1000 / 100);
        }
        put_raw(o, " billion");
    } else {
        put_u64(o, m);
        put_raw(o, " million");
    }
}

static void put_company(out_t *o, uint32_t head, uint32_t tail)
{
    put_esc(o, company_head[head]);
    put_c(o, ' ');
    put_esc(o, company_tail[tail]);
}

/* Expands one template, escaping everything for a JSON string. */
static void expand(out_t *o, const ctx_t *x, const char *t)
{
    const story_t *s = x->s;
    const field_t *f = &fields[s->field];
    while (*t) {
        if (*t != '{') {
            const char *run = t;
            while (*t && *t != '{') t++;
            for (; run < t; run++) {
                if (*run == '"' || *run == '\\') put_c(o, '\\');
                put_c(o, *run);
            }
            continue;
        }
        t++;
        int cap = 0;
        if (*t == '^') {
            cap = 1;
            t++;
        }
        char key = *t;
        t++;
        if (*t == '}') t++;
        size_t at = o->len;
        switch (key) {
        case 'C': put_company(o, s->comp_head, s->comp_tail); break;
        case 'I':
            if (s->comp2_is_company) put_company(o, s->comp2_head, s->comp2_tail);
            else put_esc(o, investors[s->investor]);
            break;
        case 'P':
            put_esc(o, first_names[s->p_first]);
            put_c(o, ' ');
            put_esc(o, last_names[s->p_last]);
            break;
        case 'Q':
            put_esc(o, first_names[s->q_first]);
            put_c(o, ' ');
            put_esc(o, last_names[s->q_last]);
            break;
        case 'O': put_esc(o, roles[s->role]); break;
        case 'L': put_esc(o, places[s->place].city); break;
        case 'K': put_esc(o, places[s->place].country); break;
        case 'A': put_amount(o, s); break;
        case 'N': put_u64(o, s->count); break;
        case 'M': put_u64(o, s->percent); break;
        case 'F': put_esc(o, f->name); break;
        case 'G': put_esc(o, f->words[s->g_word]); break;
        case 'H': put_esc(o, f->words[s->h_word]); break;
        case 'R': put_esc(o, f->product[s->product]); break;
        case 'V':
            put_esc(o, company_head[s->comp2_head]);
            put_c(o, ' ');
            put_u64(o, s->vmajor);
            break;
        case 'S': {
            char src[64];
            source_name(x->source, src, sizeof(src));
            put_esc(o, src);
            break;
        }
        case 'T':
            put_esc(o, places[s->place].city);
            put_c(o, ' ');
            put_esc(o, mascots[s->mascot]);
            break;
        case 'U':
            put_esc(o, places[s->place2].city);
            put_c(o, ' ');
            put_esc(o, mascots[s->mascot2]);
            break;
        case 'X':
            put_u64(o, s->goals1);
            put_c(o, '-');
            put_u64(o, s->goals2);
            break;
        case 'E': put_esc(o, competitions[s->competition]); break;
        case 'Y': put_esc(o, parties[s->party]); break;
        case 'Z': put_esc(o, parties[s->party2]); break;
        case 'W': put_esc(o, storms[s->storm]); break;
        case 'D': {
            int64_t day = (x->pub_us / 1000000) / 86400;
            put_raw(o, weekdays[((day % 7) + 7) % 7]);
            break;
        }
        default: break;
        }
        if (cap && at < o->len && at + 1 < o->cap && o->buf[at] >= 'a' && o->buf[at] <= 'z')
            o->buf[at] = (char)(o->buf[at] - 32);
        /* Possessive of a name ending in "s": "Systems'", not "Systems's". */
        if (t[0] == '\'' && t[1] == 's' && !isalpha((unsigned char)t[2]) && o->len > at &&
            o->last == 's') {
            put_c(o, '\'');
            t += 2;
        }
    }
}

static void put_key(out_t *o, const char *k)
{
    put_c(o, '"');
    put_raw(o, k);
    put_raw(o, "\":");
}

/* Picks k distinct indices from [0, n) in random order into idx. */
static uint32_t pick_distinct(rng_t *r, uint32_t n, uint32_t k, uint32_t *idx)
{
    uint32_t perm[16];
    if (n > 16) n = 16;
    if (k > n) k = n;
    for (uint32_t a = 0; a < n; a++) perm[a] = a;
    for (uint32_t a = 0; a < k; a++) {
        uint32_t b = a + rng_below(r, n - a);
        uint32_t t = perm[a];
        perm[a] = perm[b];
        perm[b] = t;
        idx[a] = perm[a];
    }
    return k;
}

static void put_article_text(out_t *o, const ctx_t *x, rng_t *r)
{
    const story_t *s = x->s;
    const category_t *c = &categories[s->cat];
    size_t start = o->len;
    size_t target = 860 + rng_below(r, 340);

    expand(o, x, c->leads[rng_below(r, c->nleads)]);
    if (rng_below(r, 2)) put_raw(o, "\\n\\n");
    else put_c(o, ' ');

    /* The pool: body sentences in random order, then a sector line, a quote
     * and a filler, interleaved so every article reads a little differently. */
    uint32_t body[16], nb = pick_distinct(r, c->nbody, c->nbody, body);
    const char *pool[24];
    uint32_t np = 0;
    for (uint32_t k = 0; k < nb; k++) {
        pool[np++] = c->body[body[k]];
        if (k == 1)
            pool[np++] = c->business ? quote_sentences[rng_below(r, N(quote_sentences))]
                                     : quote_general[rng_below(r, N(quote_general))];
        if (k == 2 && c->business) pool[np++] = field_sentences[rng_below(r, N(field_sentences))];
    }
    pool[np++] = c->business ? filler_business[rng_below(r, N(filler_business))]
                             : filler_general[rng_below(r, N(filler_general))];
    for (uint32_t k = 0; k < np; k++) {
        if (k) put_c(o, ' ');
        expand(o, x, pool[k]);
        if (o->len - start >= target) break;
    }
}

static const char *const repo_names[] = {"engine", "sdk", "cli", "runtime", "core", "toolkit"};
static const char *const commit_msgs[] = {
    "Fix race in connection pool shutdown", "Add streaming API for large responses",
    "Bump dependencies", "Improve error messages for invalid config",
    "Speed up index rebuild by 30%", "Document the \"retry\" option",
    "Handle empty input in parser", "Refactor scheduler into its own module",
};
static const char *const issue_titles[] = {
    "Crash when config file is empty", "Memory grows without bound under load",
    "Docs: example in README does not compile", "Support for ARM64 builds",
    "Timeout not respected on slow networks", "Feature request: JSON output",
};

static void put_repo_name(out_t *o, const story_t *s)
{
    put_slug(o, company_head[s->comp_head]);
    put_c(o, '/');
    put_raw(o, fields[s->field].tag);
    put_c(o, '-');
    put_raw(o, repo_names[s->repo_kind % N(repo_names)]);
}

static void put_version(out_t *o, const story_t *s, uint64_t i)
{
    put_c(o, 'v');
    put_u64(o, s->vmajor);
    put_c(o, '.');
    put_u64(o, i % 7);
    put_c(o, '.');
    put_u64(o, i % 5);
}

static void put_repo_event(out_t *o, const ctx_t *x, rng_t *r, uint64_t i)
{
    static const char *const types[] = {"ReleaseEvent", "PushEvent", "WatchEvent",
                                        "IssuesEvent", "PullRequestEvent", "ForkEvent"};
    static const uint8_t tw[] = {3, 5, 6, 3, 2, 1}; /* weights, sum 20 */
    uint32_t w = rng_below(r, 20), ty = 0;
    while (w >= tw[ty]) {
        w -= tw[ty];
        ty++;
    }
    const story_t *s = x->s;
    uint64_t num = 1 + (i % 4000);
    char login[48];
    {
        out_t lo = {login, sizeof(login), 0, 0};
        put_slug(&lo, first_names[(s->p_first + i) % N(first_names)]);
        put_c(&lo, '-');
        put_u64(&lo, i % 997);
        login[lo.len < sizeof(login) ? lo.len : sizeof(login) - 1] = '\0';
    }

    put_key(o, "source");
    put_raw(o, "\"github.com\",");
    put_key(o, "url");
    put_raw(o, "\"https://github.com/");
    put_repo_name(o, s);
    switch (ty) {
    case 0: put_raw(o, "/releases/tag/"); put_version(o, s, i); break;
    case 1: put_raw(o, "/commits/"); put_u64(o, mix64(i) % 1000000007u); break;
    case 3: put_raw(o, "/issues/"); put_u64(o, num); break;
    case 4: put_raw(o, "/pull/"); put_u64(o, num); break;
    default: break;
    }
    put_raw(o, "\",");

    put_key(o, "title");
    put_c(o, '"');
    put_repo_name(o, s);
    switch (ty) {
    case 0: put_raw(o, " released "); put_version(o, s, i); break;
    case 1: put_raw(o, ": "); put_esc(o, commit_msgs[i % N(commit_msgs)]); break;
    case 2: put_raw(o, " starred by "); put_raw(o, login); break;
    case 3: put_raw(o, " issue #"); put_u64(o, num); put_raw(o, ": ");
        put_esc(o, issue_titles[i % N(issue_titles)]); break;
    case 4: put_raw(o, " pull request #"); put_u64(o, num); put_raw(o, ": ");
        put_esc(o, commit_msgs[(i + 3) % N(commit_msgs)]); break;
    default: put_raw(o, " forked by "); put_raw(o, login); break;
    }
    put_raw(o, "\",");

    put_key(o, "text");
    put_c(o, '"');
    if (ty == 0) {
        put_raw(o, "Release notes: ");
        expand(o, x, "This release improves support for {G} and {H}. ");
        put_esc(o, commit_msgs[(i + 1) % N(commit_msgs)]);
        put_raw(o, ". ");
        put_esc(o, commit_msgs[(i + 5) % N(commit_msgs)]);
        put_raw(o, ". Maintained by ");
        expand(o, x, "{C}.");
    } else if (ty == 3) {
        put_esc(o, issue_titles[i % N(issue_titles)]);
        put_raw(o, ". Steps to reproduce are in the attached log.\\n\\nVersion: ");
        put_version(o, s, i);
    } else if (ty == 1 || ty == 4) {
        put_esc(o, commit_msgs[(i + (ty == 4 ? 3 : 0)) % N(commit_msgs)]);
        put_raw(o, ".");
    }
    put_raw(o, "\",");

    put_key(o, "repo");
    put_raw(o, "{\"type\":\"");
    put_raw(o, types[ty]);
    put_raw(o, "\",\"repo\":{\"name\":\"");
    put_repo_name(o, s);
    put_raw(o, "\"},\"actor\":{\"login\":\"");
    put_raw(o, login);
    put_raw(o, "\"},\"payload\":{");
    switch (ty) {
    case 0:
        put_raw(o, "\"action\":\"published\",\"release\":{\"tag_name\":\"");
        put_version(o, s, i);
        put_raw(o, "\",\"name\":\"");
        put_version(o, s, i);
        put_raw(o, "\",\"prerelease\":false}");
        break;
    case 1:
        put_raw(o, "\"ref\":\"refs/heads/main\",\"size\":");
        put_u64(o, 1 + i % 5);
        put_raw(o, ",\"commits\":[{\"message\":\"");
        put_esc(o, commit_msgs[i % N(commit_msgs)]);
        put_raw(o, "\"}]");
        break;
    case 2: put_raw(o, "\"action\":\"started\""); break;
    case 3:
        put_raw(o, "\"action\":\"opened\",\"issue\":{\"number\":");
        put_u64(o, num);
        put_raw(o, ",\"title\":\"");
        put_esc(o, issue_titles[i % N(issue_titles)]);
        put_raw(o, "\"}");
        break;
    case 4:
        put_raw(o, "\"action\":\"opened\",\"pull_request\":{\"number\":");
        put_u64(o, num);
        put_raw(o, ",\"title\":\"");
        put_esc(o, commit_msgs[(i + 3) % N(commit_msgs)]);
        put_raw(o, "\"}");
        break;
    default: put_raw(o, "\"forkee\":{\"full_name\":\""); put_raw(o, login);
        put_raw(o, "/fork\"}"); break;
    }
    put_raw(o, "},\"created_at\":\"");
    put_time(o, x->pub_us);
    put_raw(o, "\"},");
}

/* Which story event i belongs to, and its published_at. */
static uint64_t event_story(const generator_t *g, uint64_t i, rng_t *r)
{
    /* Story j starts at stream position (j - n) * STORY_EVENTS and is active
     * for n * STORY_EVENTS positions, so n stories are always active; the
     * skewed pick favours young stories. */
    uint64_t newest = i / STORY_EVENTS + g->n_stories;
    uint64_t off = rng_skewed(r, (uint32_t)g->n_stories);
    return newest - off;
}

static int64_t event_time(const generator_t *g, uint64_t i, rng_t *r)
{
    int64_t jitter_max = 300LL * 1000000;
    if (jitter_max > 20 * g->step_us) jitter_max = 20 * g->step_us;
    int64_t jitter = (int64_t)(rng_unit(r) * (double)(2 * jitter_max)) - jitter_max;
    /* Unsigned arithmetic: an absurdly large i wraps instead of overflowing. */
    int64_t t = (int64_t)((uint64_t)BASE_TIME_US + i * (uint64_t)g->step_us + (uint64_t)jitter);
    return t - t % 1000000; /* whole seconds, as publishers give them */
}

int64_t generator_event_time_us(const generator_t *g, uint64_t i)
{
    rng_t r = {mix64(g->seed) ^ mix64(i ^ 0x7e11e5ULL)};
    return event_time(g, i, &r);
}

size_t generator_event(const generator_t *g, uint64_t i, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0, 0};
    rng_t tr = {mix64(g->seed) ^ mix64(i ^ 0x7e11e5ULL)};
    rng_t r = {mix64(g->seed + 0x6a09e667f3bcc909ULL) ^ mix64(i)};

    ctx_t x;
    story_t s;
    x.g = g;
    x.pub_us = event_time(g, i, &tr);
    story_init(g, event_story(g, i, &r), &s);
    x.s = &s;
    x.source = rng_skewed(&r, N_SOURCES);
    /* A story's own main publishers (a trade title, the local paper). */
    if (rng_below(&r, 4) == 0) x.source = (uint32_t)(mix64(s.id) % N_SOURCES);
    int repo = rng_below(&r, 100) < 5;

    put_raw(&o, "{\"id\":\"gen-");
    put_u64(&o, g->seed);
    put_c(&o, '-');
    put_u64(&o, i);
    put_raw(&o, "\",\"kind\":\"");
    put_raw(&o, repo ? "repo_event" : "article");
    put_raw(&o, "\",");

    const category_t *c = &categories[s.cat];
    if (repo) {
        put_repo_event(&o, &x, &r, i);
    } else {
        char src[64];
        source_name(x.source, src, sizeof(src));
        put_key(&o, "source");
        put_c(&o, '"');
        put_raw(&o, src);
        put_raw(&o, "\",");

        uint32_t title = rng_below(&r, c->ntitles);
        put_key(&o, "url");
        put_raw(&o, "\"https://www.");
        put_raw(&o, src);
        put_c(&o, '/');
        {
            int y;
            unsigned m, d;
            civil_from_days(x.pub_us / 1000000 / 86400, &y, &m, &d);
            put_u64(&o, (uint64_t)y);
            put_c(&o, '/');
            put_2d(&o, m);
            put_c(&o, '/');
            put_2d(&o, d);
            put_c(&o, '/');
        }
        put_raw(&o, c->name);
        put_c(&o, '-');
        put_slug(&o, company_head[s.comp_head]);
        put_c(&o, '-');
        put_u64(&o, s.id);
        put_c(&o, '-');
        put_u64(&o, i);
        put_raw(&o, "\",");

        put_key(&o, "title");
        put_c(&o, '"');
        expand(&o, &x, c->titles[title]);
        put_raw(&o, "\",");

        put_key(&o, "text");
        put_c(&o, '"');
        put_article_text(&o, &x, &r);
        put_raw(&o, "\",");
    }

    put_key(&o, "published_at");
    put_c(&o, '"');
    put_time(&o, x.pub_us);
    put_raw(&o, "\",");
    put_key(&o, "crawled_at");
    put_c(&o, '"');
    /* Crawl lag: seconds to a couple of hours, mostly short. */
    put_time(&o, x.pub_us + (int64_t)(30 + rng_skewed(&r, 7200)) * 1000000);
    put_raw(&o, "\",\"lang\":\"en\",\"tags\":[\"");
    put_raw(&o, repo ? "github" : c->name);
    if (c->business || repo) {
        put_raw(&o, "\",\"");
        put_raw(&o, fields[s.field].tag);
    }
    put_raw(&o, "\"]}");

    if (cap) buf[o.len < cap ? o.len : cap - 1] = '\0';
    return o.len;
}
