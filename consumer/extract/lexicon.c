/* lexicon: built-in word classes and well-known names, and the gazetteer.
 *
 * The lists are deliberately small: they cover the words the rules key on
 * (verbs, titles, suffixes) and the names that capitalisation alone types
 * wrongly. Anything domain-specific belongs in the gazetteer file. */
#include "extract_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

const char *const ex_etype_names[ET_COUNT] = {"org", "person", "product", "place", "other"};

typedef struct {
    uint32_t bits;
    const char *words; /* space-separated */
} word_class_t;

static const word_class_t word_classes[] = {
    {W_LEX, "shares stocks stock sources investors analysts officials researchers experts users "
            "customers employees workers regulators lawmakers report reports breaking exclusive "
            "update updates watch live video podcast opinion analysis explainer review here "
            "today tomorrow yesterday earlier later last next new latest after before despite "
            "according amid following meanwhile plus inside why how what who startup startups "
            "company companies tech big top first former global major record deal deals round "
            "plan plans people government police study data market markets sales revenue "
            "profit price prices several sources report hands-on"},
    {W_TITLE | W_NONENT,
     "ceo cto cfo coo cso cio chief executive officer president vice chairman chairwoman chair "
     "founder co-founder cofounder director minister secretary senator sen rep representative "
     "governor gov mayor judge justice prime chancellor king queen prince princess pope general "
     "gen mr mrs ms dr prof professor sir dame lord lady commissioner spokesperson spokesman "
     "spokeswoman head managing deputy ambassador attorney lt col capt sgt"},
    {W_SUFFIX, "inc incorporated corp corporation co ltd limited llc llp plc gmbh ag sa sas nv bv "
               "ab oy spa srl kk pte pty ai labs lab technologies systems software networks "
               "capital ventures partners holdings group platforms bank fund foundation institute "
               "university college agency commission authority ministry department council "
               "association society robotics therapeutics semiconductor semiconductors motors "
               "airlines energy games studios media computing dynamics industries enterprises electronics "
               "solutions analytics pharmaceuticals biosciences"},
    {W_NONENT, "ai american british chinese french german japanese korean indian european israeli "
               "canadian russian italian spanish dutch swiss swedish australian taiwanese irish "
               "brazilian mexican saudi emirati ukrainian polish finnish norwegian danish "
               "belgian austrian turkish singaporean vietnamese indonesian african asian western "
               "eastern northern southern api apis gpu gpus cpu cpus llm llms saas ipo agi vc "
               "ceos series version internet web"},
    {W_CALENDAR, "january february march april may june july august september october november "
                 "december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday "
                 "wednesday thursday friday saturday sunday"},
    {W_CONNECT, "of de von van der du da del la le al"},
    {W_FIRST,
     "sam elon mark sundar satya dario daniela jensen tim jeff andy lisa mira greg ilya demis "
     "mustafa arthur alex alexandr brian marc reid peter bill steve larry sergey jack susan "
     "sheryl ginni safra pat jim john james robert michael william david richard joseph thomas "
     "charles chris christopher daniel matthew anthony donald paul andrew joshua kenneth kevin "
     "george edward ronald timothy jason jeffrey ryan jacob gary nicholas eric stephen jonathan "
     "scott justin benjamin samuel frank gregory raymond patrick dennis jerry tyler aaron jose "
     "henry adam douglas nathan kyle walter ethan jeremy keith christian roger noah carl sean "
     "lawrence jesse bryan joe jordan bruce albert gabriel alan juan wayne vincent russell louis "
     "philip mary patricia jennifer linda elizabeth barbara jessica sarah karen nancy margaret "
     "sandra ashley kimberly emily donna michelle carol amanda melissa stephanie rebecca sharon "
     "laura cynthia kathleen amy angela helen anna nicole emma samantha katherine christine "
     "rachel catherine janet maria heather diane julie victoria olivia kelly lauren megan andrea "
     "hannah julia grace sophia marie diana natalie charlotte kamala vladimir xi emmanuel olaf "
     "keir rishi narendra ursula gina lina margrethe"},
    {W_SAID, "said says told wrote added explained noted stated argued tweeted posted"},
    {W_FILLER, "a an another fresh new additional extra nearly almost about around roughly some "
               "over more than up to its the record whopping massive further initial total "
               "in series round"},
    {W_FROM, "from"},
    {W_BY, "by"},
    {W_JOBS, "jobs job employees workers staff staffers positions roles workforce people "
             "headcount"},
    {W_BE, "is was are were goes went go going been be remains remained"},
    {W_MARKET, "shares stock stocks market markets index price prices"},
    {W_AT, "at hits hit affects affecting affected across"},
    {W_OF, "of"},
    {W_OFF, "off"},
    {W_PREP, "with on in for by at from to after amid as via during into over under"},
    {V_FUND | W_LEX, "raise raises raised raising secure secures secured securing close closes "
                     "closed closing land lands landed bag bags bagged nab nabs nabbed snag "
                     "snags snagged receive receives received net nets netted get gets got"},
    {V_ACQ | W_LEX, "acquire acquires acquired acquiring buy buys bought buying purchase "
                    "purchases purchased purchasing"},
    {V_ACQ_N | W_LEX, "acquisition takeover purchase"},
    {V_INVEST | W_LEX, "invest invests invested investing"},
    {V_REL | W_LEX, "release releases released releasing launch launches launched launching "
                    "unveil unveils unveiled unveiling introduce introduces introduced "
                    "introducing debut debuts debuted ship ships shipped open-source "
                    "open-sources open-sourced"},
    {V_OUT | W_LEX, "roll rolls rolled rolling"},
    {V_OUTAGE | W_LEX, "outage outages downtime disruption disruptions"},
    {V_DOWN, "down"},
    {V_CUT | W_LEX, "cut cuts cutting slash slashes slashed slashing eliminate eliminates "
                    "eliminated eliminating axe axes axed axing shed sheds shedding trim trims "
                    "trimmed"},
    {V_LAY | W_LEX, "lay lays laid laying"},
    {V_LAYOFFS | W_LEX, "layoffs layoff redundancies"},
};

typedef struct {
    ex_etype_t type;
    const char *const *names;
} name_list_t;

static const char *const places[] = {
    "United States", "US", "U.S.", "USA", "America", "UK", "U.K.", "United Kingdom", "Britain",
    "England", "Scotland", "Wales", "Ireland", "EU", "European Union", "Europe", "Asia",
    "Africa", "China", "Japan", "India", "Germany", "France", "Italy", "Spain", "Canada",
    "Mexico", "Brazil", "Russia", "Ukraine", "Israel", "Iran", "Saudi Arabia", "UAE", "Dubai",
    "Abu Dhabi", "Qatar", "Turkey", "Australia", "New Zealand", "South Korea", "Korea",
    "North Korea", "Taiwan", "Singapore", "Hong Kong", "Vietnam", "Indonesia", "Netherlands",
    "Belgium", "Switzerland", "Sweden", "Norway", "Denmark", "Finland", "Poland", "Austria",
    "Portugal", "Greece", "Egypt", "Nigeria", "Kenya", "South Africa", "Argentina", "Chile",
    "Colombia", "Pakistan", "Bangladesh", "Thailand", "Malaysia", "Philippines", "California",
    "Texas", "New York", "Florida", "Washington", "Massachusetts", "Seattle", "San Francisco",
    "Silicon Valley", "Los Angeles", "Boston", "Chicago", "Austin", "Palo Alto", "Mountain View",
    "Menlo Park", "Cupertino", "Redmond", "London", "Paris", "Berlin", "Munich", "Madrid",
    "Rome", "Amsterdam", "Stockholm", "Zurich", "Geneva", "Dublin", "Brussels", "Tokyo",
    "Beijing", "Shanghai", "Shenzhen", "Seoul", "Bangalore", "Bengaluru", "Mumbai",
    "New Delhi", "Delhi", "Tel Aviv", "Toronto", "Vancouver", "Sydney", "Melbourne", "Moscow",
    "Kyiv", "Taipei", NULL};

static const char *const orgs[] = {
    "OpenAI", "Anthropic", "Google", "Alphabet", "Microsoft", "Apple", "Amazon", "Meta",
    "Facebook", "Nvidia", "Intel", "AMD", "Arm", "Qualcomm", "Broadcom", "TSMC", "Samsung",
    "Sony", "IBM", "Oracle", "Salesforce", "Adobe", "SAP", "Cisco", "Tesla", "SpaceX", "xAI",
    "Twitter", "Netflix", "Uber", "Lyft", "Airbnb", "Stripe", "Shopify", "Spotify", "Snap",
    "Pinterest", "Reddit", "TikTok", "ByteDance", "Alibaba", "Tencent", "Baidu", "Huawei",
    "Xiaomi", "DeepMind", "Google DeepMind", "Mistral", "Mistral AI", "Cohere", "Hugging Face",
    "Stability AI", "Perplexity", "Midjourney", "Databricks", "Snowflake", "Palantir", "Scale AI",
    "CoreWeave", "Cloudflare", "CrowdStrike", "GitHub", "GitLab", "Dell", "HP", "Lenovo",
    "Micron", "ASML", "Volkswagen", "Toyota", "Ford", "Boeing", "Goldman Sachs", "JPMorgan",
    "Morgan Stanley", "SoftBank", "Sequoia", "Andreessen Horowitz", "a16z", "Y Combinator",
    "Coinbase", "Binance", "Visa", "Mastercard", "PayPal", "Walmart", "Disney", "Comcast",
    "Verizon", "AT&T", "T-Mobile", "Vodafone", "Siemens", "Bosch", "Nokia", "Ericsson", "Zoom",
    "Atlassian", "Okta", "VMware", "Wiz", "Palo Alto Networks", "Fortinet", "Mozilla",
    "Red Hat", "Canonical", "Amazon Web Services", "New York Times", "Wall Street Journal",
    "Financial Times", "Bloomberg", "Reuters", "The Verge", "TechCrunch", "The Information", "SEC", "FTC", "DOJ", "FCC", "European Commission",
    "Federal Reserve", "Fed", "Congress", "Senate", "White House", "Pentagon", "NASA", "NATO",
    "CMA", "Ofcom", NULL};

static const char *const products[] = {
    "ChatGPT", "GPT-4", "GPT-4o", "GPT-5", "Claude", "Gemini", "Copilot", "GitHub Copilot",
    "Llama", "Sora", "DALL-E", "iPhone", "iPad", "Mac", "MacBook", "Vision Pro", "Android",
    "iOS", "macOS", "Windows", "Azure", "AWS", "Google Cloud", "Chrome", "Firefox", "Linux",
    "Kubernetes", "Docker", "PyTorch", "TensorFlow", "Grok", "Alexa", "Siri", "Pixel", "Xbox",
    "PlayStation", "WhatsApp", "Instagram", "YouTube", "Gmail", "Outlook", "Blackwell", "H100",
    "H200", "B200", "Apple Intelligence", "App Store", NULL};

static const char *const others[] = {"Bitcoin", "Ethereum", "Solana", "COVID-19", NULL};

static const name_list_t name_lists[] = {
    {ET_PLACE, places}, {ET_ORG, orgs}, {ET_PRODUCT, products}, {ET_OTHER, others}};

/* Adds a name; the first word of a multi-word name is marked so that a
 * sentence may start with it ("New York Times sues ..."). */
static int add_name(ex_map_t *words, ex_map_t *names, const char *name, size_t len,
                    ex_etype_t type)
{
    text_iter_t it;
    text_token_t t, first = {NULL, 0, 0};
    uint64_t key = EX_KEY_SEED;
    int n = 0;
    text_iter_init(&it, name, len);
    while (text_iter_next(&it, &t)) {
        if (!n++) first = t;
        key = ex_key_add(key, ex_word_hash(t.start, t.len));
    }
    if (!n) return 0;
    int32_t *v = ex_map_put(names, key, (int32_t)type);
    if (!v) return -1;
    *v = (int32_t)type;
    if (n > 1) {
        if (!(v = ex_map_put(words, ex_word_hash(first.start, first.len), 0))) return -1;
        *v |= W_NAME1;
    }
    return 0;
}

int ex_lexicon_load(ex_map_t *words, ex_map_t *names)
{
    for (size_t l = 0; l < sizeof name_lists / sizeof name_lists[0]; l++)
        for (const char *const *n = name_lists[l].names; *n; n++)
            if (add_name(words, names, *n, strlen(*n), name_lists[l].type) < 0) return -1;

    for (size_t i = 0; text_stopword("en", i); i++) {
        const char *w = text_stopword("en", i);
        int32_t *v = ex_map_put(words, ex_word_hash(w, strlen(w)), 0);
        if (!v) return -1;
        *v |= W_STOP;
    }
    for (size_t c = 0; c < sizeof word_classes / sizeof word_classes[0]; c++) {
        const char *p = word_classes[c].words;
        while (*p) {
            size_t n = strcspn(p, " ");
            uint32_t bits = word_classes[c].bits;
            uint64_t h = ex_word_hash(p, n);
            /* A known name is not a common word ("Snap", "Arm"). */
            if ((bits & W_LEX) && ex_map_find(names, ex_key_add(EX_KEY_SEED, h))) bits &= ~W_LEX;
            int32_t *v = ex_map_put(words, h, 0);
            if (!v) return -1;
            *v |= (int32_t)bits;
            p += n;
            while (*p == ' ') p++;
        }
    }
    return 0;
}

static int parse_type(const char *s, ex_etype_t *out)
{
    for (int t = 0; t < ET_COUNT; t++)
        if (strcmp(s, ex_etype_names[t]) == 0) {
            *out = (ex_etype_t)t;
            return 0;
        }
    return -1;
}

int ex_gazetteer_load(ex_map_t *words, ex_map_t *names, const char *path, char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "gazetteer %s: %s", path, strerror(errno));
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "gazetteer %s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
        if (!n || line[0] == '#') continue;
        char *tab = strchr(line, '\t');
        ex_etype_t type;
        if (!tab || tab == line || parse_type(tab + 1, &type) < 0) {
            snprintf(err, errlen,
                     "gazetteer %s:%d: want \"Name<TAB>org|person|product|place|other\"", path,
                     lineno);
            rc = -1;
            break;
        }
        if (!ex_utf8_valid(line, (size_t)(tab - line))) {
            snprintf(err, errlen, "gazetteer %s:%d: invalid UTF-8", path, lineno);
            rc = -1;
            break;
        }
        if (add_name(words, names, line, (size_t)(tab - line), type) < 0) {
            snprintf(err, errlen, "gazetteer: out of memory");
            rc = -1;
            break;
        }
    }
    if (!rc && ferror(f)) {
        snprintf(err, errlen, "gazetteer %s: read error", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}
