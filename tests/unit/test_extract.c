/* Unit tests for consumer/extract: the built-in extractor on realistic
 * headlines and ledes, repository events, the low-level parsers, the
 * validator, loading errors and hostile input.
 *
 * Run from the repository root (loads schema/taxonomy.json).
 * `test_extract --bench [N]` prints documents per second on ~2 KB articles
 * (timing is printed, never asserted). */
#include "../test.h"
#include "clock.h"
#include "extract/extract.h"
#include "json.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TAXONOMY "schema/taxonomy.json"

/* test.h's ASSERT_*_EQ expand to statements that trip -Wunused-value under
 * -Werror, so checks go through ASSERT_TRUE with helpers that explain. */
static const char *current; /* the case being checked, for messages */

static int explain(int ok, const char *fmt, const char *a, const char *b)
{
    if (!ok) {
        fprintf(stderr, "  in \"%.70s\": ", current ? current : "");
        fprintf(stderr, fmt, a, b);
        fputc('\n', stderr);
    }
    return ok;
}

static int str_eq(const char *got, const char *want)
{
    return explain(got && strcmp(got, want) == 0, "got \"%s\", want \"%s\"", got ? got : "(null)",
                   want);
}

static int near(double got, double want)
{
    char g[32], w[32];
    snprintf(g, sizeof g, "%g", got);
    snprintf(w, sizeof w, "%g", want);
    return explain(fabs(got - want) <= 1e-9 * fmax(1, fabs(want)), "got %s, want %s", g, w);
}

static cJSON *run(const extractor_t *x, const char *title, const char *text)
{
    extract_input_t in = {0, title, text, "test", NULL, NULL, NULL};
    char err[256];
    cJSON *o = extractor_run(x, &in, err, sizeof err);
    if (!o) fprintf(stderr, "extractor_run: %s\n", err);
    return o;
}

static int valid(const cJSON *o)
{
    char err[256] = "";
    int rc = extraction_validate(o, err, sizeof err);
    return explain(rc == 0, "invalid output: %s%s", err, "");
}

/* ---- Expectations -------------------------------------------------------
 * entities: "Name:type;..." must be present; "!Name" must be absent.
 * money:    "6.6e9 USD;..." must be present; "-" means no money at all.
 * tags:     "ai funding !layoffs": present, and absent with '!'.
 * facts:    "Subject|predicate|object|amount|currency;..." with "*" for
 *           any value and "-" for null; "!predicate" means no such fact. */

typedef struct {
    const char *title, *text;
    const char *entities, *money, *tags, *facts;
} case_t;

static const cJSON *find_entity(const cJSON *o, const char *name)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(o, "entities"))
    {
        if (strcmp(cJSON_GetObjectItem(e, "name")->valuestring, name) == 0) return e;
    }
    return NULL;
}

/* Next ';'-separated item of *p into buf; 0 at the end. */
static int next_item(const char **p, char *buf, size_t n)
{
    while (**p == ';' || **p == ' ') (*p)++;
    if (!**p) return 0;
    size_t l = strcspn(*p, ";");
    if (l >= n) l = n - 1;
    memcpy(buf, *p, l);
    buf[l] = '\0';
    while (l && buf[l - 1] == ' ') buf[--l] = '\0';
    *p += strcspn(*p, ";");
    return 1;
}

static void check_entities(const cJSON *o, const char *spec)
{
    char item[128];
    for (const char *p = spec; next_item(&p, item, sizeof item);) {
        if (item[0] == '!') {
            ASSERT_TRUE(explain(!find_entity(o, item + 1), "unexpected entity %s%s", item + 1, ""));
            continue;
        }
        char *colon = strrchr(item, ':');
        *colon = '\0';
        const cJSON *e = find_entity(o, item);
        if (ASSERT_TRUE(explain(e != NULL, "missing entity %s%s", item, "")))
            ASSERT_TRUE(str_eq(cJSON_GetObjectItem(e, "type")->valuestring, colon + 1));
    }
}

static void check_money(const cJSON *o, const char *spec)
{
    const cJSON *money = cJSON_GetObjectItem(o, "money");
    if (strcmp(spec, "-") == 0) {
        const cJSON *m = cJSON_GetArrayItem(money, 0);
        ASSERT_TRUE(explain(m == NULL, "unexpected money %s%s", m ? cJSON_GetObjectItem(m, "text")->valuestring : "", ""));
        return;
    }
    char item[64];
    for (const char *p = spec; next_item(&p, item, sizeof item);) {
        char cur[8] = "";
        double v = 0;
        sscanf(item, "%lf %7s", &v, cur);
        int found = 0;
        const cJSON *m;
        cJSON_ArrayForEach(m, money)
        {
            found |= fabs(cJSON_GetObjectItem(m, "value")->valuedouble - v) <= 1e-9 * v &&
                     strcmp(cJSON_GetObjectItem(m, "currency")->valuestring, cur) == 0;
        }
        ASSERT_TRUE(explain(found, "missing money %s%s", item, ""));
    }
}

static int has_tag(const cJSON *o, const char *tag)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(o, "tags")) if (strcmp(t->valuestring, tag) == 0) return 1;
    return 0;
}

static void check_tags(const cJSON *o, const char *spec)
{
    char tag[64];
    for (const char *p = spec; *p;) {
        size_t l = strcspn(p, " ");
        snprintf(tag, sizeof tag, "%.*s", (int)l, p);
        p += l;
        while (*p == ' ') p++;
        if (!tag[0]) continue;
        if (tag[0] == '!') ASSERT_TRUE(explain(!has_tag(o, tag + 1), "unexpected tag %s%s", tag + 1, ""));
        else ASSERT_TRUE(explain(has_tag(o, tag), "missing tag %s%s", tag, ""));
    }
}

static int field_matches(const cJSON *f, const char *key, const char *want)
{
    const cJSON *v = cJSON_GetObjectItem(f, key);
    if (strcmp(want, "*") == 0) return 1;
    if (strcmp(want, "-") == 0) return cJSON_IsNull(v);
    if (cJSON_IsString(v)) return strcmp(v->valuestring, want) == 0;
    if (cJSON_IsNumber(v)) return fabs(v->valuedouble - strtod(want, NULL)) <= 1e-9 * fabs(v->valuedouble);
    return 0;
}

static void check_facts(const cJSON *o, const char *spec)
{
    const cJSON *facts = cJSON_GetObjectItem(o, "facts");
    char item[160];
    for (const char *p = spec; next_item(&p, item, sizeof item);) {
        const cJSON *f;
        if (item[0] == '!') {
            int found = 0;
            cJSON_ArrayForEach(f, facts) found |= strcmp(cJSON_GetObjectItem(f, "predicate")->valuestring, item + 1) == 0;
            ASSERT_TRUE(explain(!found, "unexpected fact %s%s", item + 1, ""));
            continue;
        }
        const char *keys[5] = {"subject", "predicate", "object", "amount", "currency"};
        char parts[5][80] = {"*", "*", "*", "*", "*"};
        const char *q = item;
        for (int k = 0; k < 5 && *q; k++) {
            size_t l = strcspn(q, "|");
            snprintf(parts[k], sizeof parts[k], "%.*s", (int)l, q);
            q += l + (q[l] == '|');
        }
        int found = 0;
        cJSON_ArrayForEach(f, facts)
        {
            int all = 1;
            for (int k = 0; k < 5; k++) all &= field_matches(f, keys[k], parts[k]);
            found |= all;
        }
        ASSERT_TRUE(explain(found, "missing fact %s%s", item, ""));
    }
}

static const case_t cases[] = {
    /* Funding */
    {"OpenAI raises $6.6 billion in new funding round led by Thrive Capital", "",
     "OpenAI:org; Thrive Capital:org", "6.6e9 USD", "ai funding !layoffs",
     "OpenAI|raised|Thrive Capital|6.6e9|USD"},
    {"Anthropic raises $4B from Amazon", "", "Anthropic:org; Amazon:org", "4e9 USD", "ai funding",
     "Anthropic|raised|Amazon|4e9|USD"},
    {"Mistral AI secures €600 million in Series B funding", "", "Mistral AI:org; !B; !Series B",
     "6e8 EUR", "ai funding", "Mistral AI|raised|-|6e8|EUR"},
    {"French AI startup Mistral raises $600M", "", "Mistral:org; !French; !AI; !French AI",
     "6e8 USD", "ai funding", "Mistral|raised|*|6e8|USD"},
    {"OpenAI Raises $6.6 Billion in New Funding Round Led by Thrive Capital", "",
     "OpenAI:org; Thrive Capital:org; !Raises; !New Funding Round; !Led", "6.6e9 USD",
     "ai funding", "OpenAI|raised|Thrive Capital|6.6e9|USD"},
    {"Databricks raises $10 billion at $62 billion valuation",
     "Databricks said on December 17, 2024 it raised $10bn in a Series J round led by Thrive "
     "Capital.",
     "Databricks:org; Thrive Capital:org; !J", "1e10 USD; 6.2e10 USD", "funding",
     "Databricks|raised|Thrive Capital|1e10|USD"},
    {"xAI raises $6 billion in Series B",
     "Elon Musk's xAI raised $6 billion from investors including Andreessen Horowitz and Sequoia "
     "Capital.",
     "xAI:org; Elon Musk:person; Andreessen Horowitz:org; Sequoia Capital:org", "6e9 USD",
     "ai funding", "xAI|raised|Andreessen Horowitz|6e9|USD"},
    {"Perplexity AI raises $500 million at $9 billion valuation", "", "Perplexity AI:org",
     "5e8 USD; 9e9 USD", "ai funding", "Perplexity AI|raised|-|5e8|USD"},
    {"SoftBank invests 4bn dollars in OpenAI",
     "Japan's SoftBank Group said it will invest USD 4 billion in the ChatGPT maker.",
     "OpenAI:org; SoftBank Group:org; Japan:place; ChatGPT:product", "4e9 USD", "ai funding",
     "OpenAI|raised|SoftBank Group|4e9|USD"},
    {"UK startup Wayve raises $1.05 billion",
     "London-based Wayve, which builds AI for self-driving cars, raised $1.05 billion led by "
     "SoftBank.",
     "Wayve:org; UK:place; SoftBank:org; !London-based", "1.05e9 USD", "funding",
     "Wayve|raised|SoftBank|1.05e9|USD"},
    {"Cohere raises $500 million at $5.5 billion valuation",
     "Toronto-based Cohere said the round was led by PSP Investments.", "Cohere:org", "5e8 USD",
     "funding", "Cohere|raised|*|5e8|USD"},
    {"Brex raises $300 million Series D at $12.3 billion valuation", "", "Brex:org",
     "3e8 USD; 1.23e10 USD", "funding", "Brex|raised|-|3e8|USD"},
    {"Figure AI raises $675 million from Microsoft, Nvidia and OpenAI", "",
     "Figure AI:org; Microsoft:org; Nvidia:org; OpenAI:org", "6.75e8 USD", "funding ai",
     "Figure AI|raised|Microsoft|6.75e8|USD"},
    {"Revolut secures £3.5 million to expand in Brazil", "", "Revolut:org; Brazil:place",
     "3.5e6 GBP", "funding", "Revolut|raised|-|3.5e6|GBP"},
    {"Stripe valued at $65 billion in employee share sale", "", "Stripe:org", "6.5e10 USD",
     "funding", "!raised"},
    {"Senator raises concerns over AI safety",
     "The senator raised concerns about the risks of frontier models on Tuesday.", "!Senator",
     "-", "!funding", "!raised"},
    {"Apple raises prices of iPhone in India", "", "Apple:org; India:place", "-", "!funding",
     "!raised"},

    /* Acquisitions */
    {"Microsoft to acquire Activision Blizzard for $68.7 billion", "",
     "Microsoft:org; Activision Blizzard:org", "6.87e10 USD", "acquisition",
     "Microsoft|acquired|Activision Blizzard|6.87e10|USD"},
    {"Broadcom completes $69 billion acquisition of VMware",
     "Broadcom said on Wednesday it had completed its acquisition of VMware.",
     "Broadcom:org; VMware:org", "6.9e10 USD", "acquisition",
     "Broadcom|acquired|VMware|6.9e10|USD"},
    {"Cisco buys Splunk for $28 billion in cash",
     "Cisco Systems agreed to buy cybersecurity company Splunk for $28 billion.",
     "Cisco Systems:org; Splunk:org", "2.8e10 USD", "acquisition",
     "Cisco Systems|acquired|Splunk|2.8e10|USD"},
    {"Salesforce to buy Informatica in deal valued at about $8 billion", "",
     "Salesforce:org; Informatica:org", "8e9 USD", "acquisition",
     "Salesforce|acquired|Informatica|8e9|USD"},
    {"Oracle to acquire Cerner for $28.3 billion", "", "Oracle:org; Cerner:org", "2.83e10 USD",
     "acquisition", "Oracle|acquired|Cerner|2.83e10|USD"},
    {"IBM to buy HashiCorp for $6.4 billion", "", "IBM:org; HashiCorp:org", "6.4e9 USD",
     "acquisition", "IBM|acquired|HashiCorp|6.4e9|USD"},
    {"Google agrees to buy Wiz for $32 billion in its biggest deal ever", "",
     "Google:org; Wiz:org", "3.2e10 USD", "acquisition", "Google|acquired|Wiz|3.2e10|USD"},
    {"HPE completes acquisition of Juniper Networks", "", "HPE:org; Juniper Networks:org", "-",
     "acquisition", "HPE|acquired|Juniper Networks|-|-"},
    {"Figma acquired by Adobe in $20 billion deal", "", "Figma:org; Adobe:org", "2e10 USD",
     "acquisition", "Adobe|acquired|Figma|2e10|USD"},
    {"Adobe abandons $20 billion Figma deal after regulatory pushback", "", "Adobe:org; Figma:org",
     "2e10 USD", "regulation", "!acquired"},
    {"Apple buys back $110 billion of its own shares", "", "Apple:org", "1.1e11 USD", "",
     "!acquired"},

    /* Releases */
    {"Apple unveils iPhone 16 with Apple Intelligence", "",
     "Apple:org; iPhone 16:product; Apple Intelligence:product", "-", "release",
     "Apple|released|iPhone 16|-|-"},
    {"Amazon-backed Anthropic launches Claude 3.5 Sonnet",
     "Anthropic on Thursday released Claude 3.5 Sonnet, its most capable model yet. The San "
     "Francisco-based startup said the model is available now.",
     "Anthropic:org; Claude 3.5 Sonnet:product; !Amazon-backed; !San; !Amazon-backed Anthropic",
     "-", "ai release", "Anthropic|released|Claude 3.5 Sonnet|-|-"},
    {"Meta releases Llama 3 open-source model",
     "Meta Platforms released Llama 3, the latest version of its open-source large language "
     "model, on April 18, 2024.",
     "Meta Platforms:org; Llama 3:product", "-", "ai release open-source",
     "Meta Platforms|released|Llama 3|-|-"},
    {"Google DeepMind unveils Gemini 2.0",
     "Google DeepMind CEO Demis Hassabis said Gemini 2.0 would power new agents.",
     "Google DeepMind:org; Gemini 2.0:product; Demis Hassabis:person; !CEO", "-", "ai release",
     "Google DeepMind|released|Gemini 2.0|-|-"},
    {"Google DeepMind unveils Genie 2",
     "Google said the model turns a single image into a playable world.",
     "Google DeepMind:org; Google:org; Genie 2:product", "-", "release ai",
     "Google DeepMind|released|Genie 2|-|-"},
    {"Tesla unveils Cybercab robotaxi at Hollywood event", "", "Tesla:org; Cybercab:product",
     "-", "release", "Tesla|released|Cybercab|-|-"},
    {"Huawei unveils Mate 70 smartphone", "", "Huawei:org; Mate 70:product", "-", "release",
     "Huawei|released|Mate 70|-|-"},
    {"Google rolls out Gemini 2.0 Flash for developers", "", "Google:org; Gemini 2.0 Flash:product",
     "-", "release", "Google|released|Gemini 2.0 Flash|-|-"},
    {"Python 3.13 released with experimental JIT compiler", "", "Python 3.13:product", "-",
     "release", "!released"},
    {"Kubernetes 1.30 brings new security features", "", "Kubernetes 1.30:product", "-", "", ""},

    /* Outages */
    {"Slack suffers outage",
     "Slack users reported problems on Tuesday. The outage lasted two hours.", "Slack:org", "-",
     "outage", "Slack|outage|-|-|-"},
    {"ChatGPT down for thousands of users", "", "ChatGPT:product", "-", "outage ai",
     "ChatGPT|outage|-|-|-"},
    {"AWS outage disrupts services across US East region",
     "An outage at Amazon Web Services knocked thousands of websites offline on Monday.",
     "AWS:product; Amazon Web Services:org", "-", "outage cloud",
     "AWS|outage|-|-|-; Amazon Web Services|outage|-|-|-"},
    {"CrowdStrike update causes global IT outage",
     "A faulty software update from CrowdStrike caused a global outage affecting Microsoft "
     "Windows machines.",
     "CrowdStrike:org; Microsoft Windows:product; !IT", "-", "outage", "CrowdStrike|outage|-|-|-"},
    {"Zoom outage leaves users unable to join meetings", "", "Zoom:org", "-", "outage",
     "Zoom|outage|-|-|-"},
    {"Amazon Web Services suffers outage",
     "Amazon said the outage at its cloud unit was resolved by Tuesday evening.",
     "Amazon Web Services:org; Amazon:org", "-", "outage cloud",
     "Amazon Web Services|outage|-|-|-"},
    {"GitHub goes down, disrupting developers worldwide", "", "GitHub:org", "-", "outage",
     "GitHub|outage|-|-|-"},
    {"Cloudflare says outage was caused by a configuration error", "", "Cloudflare:org", "-",
     "outage", "Cloudflare|outage|-|-|-"},
    {"Apple stock is down 3% today",
     "Apple shares are down after the iPhone maker warned of weak demand in China.",
     "Apple:org; China:place", "-", "!outage", "!outage"},
    {"Nvidia shares fall 5% after earnings miss",
     "Shares of Nvidia fell 5% in after-hours trading on Wednesday after the chipmaker reported "
     "quarterly revenue of $30 billion.",
     "Nvidia:org; !Shares", "3e10 USD", "earnings chips !outage", "!outage"},
    {"Google shuts down its Stadia gaming service", "", "Google:org; Stadia:org", "-", "",
     "!outage"},

    /* Layoffs */
    {"Google cuts 1,000 jobs in its advertising unit", "", "Google:org", "-", "layoffs",
     "Google|layoffs|-|-|-"},
    {"Spotify lays off 17% of staff", "", "Spotify:org", "-", "layoffs", "Spotify|layoffs"},
    {"Intel to cut 15% of workforce in $10 billion cost-cutting plan",
     "Intel said it would lay off more than 15,000 employees.", "Intel:org", "1e10 USD",
     "layoffs chips", "Intel|layoffs"},
    {"Microsoft lays off 10,000 employees",
     "Microsoft Corp will lay off 10,000 employees, CEO Satya Nadella said in a memo on January "
     "18, 2023.",
     "Microsoft Corp:org; Satya Nadella:person", "-", "layoffs", "Microsoft Corp|layoffs"},
    {"Salesforce to cut 10% of workforce", "", "Salesforce:org", "-", "layoffs",
     "Salesforce|layoffs"},
    {"Meta to lay off 11,000 employees", "", "Meta:org", "-", "layoffs", "Meta|layoffs"},
    {"Dropbox to lay off 20% of staff", "", "Dropbox:org", "-", "layoffs", "Dropbox|layoffs"},
    {"Amazon cuts prices on Kindle devices", "", "Amazon:org; Kindle:org", "-", "!layoffs",
     "!layoffs"},

    /* Security, regulation, markets, other domains */
    {"Hackers exploit zero-day vulnerability in Ivanti VPN",
     "Security researchers said the flaw, tracked as CVE-2024-21887, is being actively exploited.",
     "CVE-2024-21887:other; !Hackers", "-", "security", ""},
    {"Microsoft patches zero-day flaw exploited in the wild", "", "Microsoft:org", "-",
     "security", "!released"},
    {"Ransomware attack hits UnitedHealth's Change Healthcare unit", "",
     "UnitedHealth:org; Change Healthcare:org; !Ransomware", "-", "security", "!outage"},
    {"The European Commission fined Apple €1.8 billion over music streaming",
     "The EU regulator said the fine of €1.84bn followed a complaint by Spotify.",
     "European Commission:org; Apple:org; EU:place; Spotify:org; !Commission", "1.8e9 EUR; 1.84e9 EUR",
     "regulation", "!raised"},
    {"Apple fined €500 million by EU over App Store rules", "",
     "Apple:org; EU:place; App Store:product", "5e8 EUR", "regulation", ""},
    {"Shares of Tesla rose 12% on Tuesday", "", "Tesla:org; !Shares", "-", "", "!outage"},
    {"Bitcoin tops $100,000 for the first time", "", "Bitcoin:other", "1e5 USD", "crypto", ""},
    {"Samsung Electronics posts 10-fold jump in quarterly profit", "",
     "Samsung Electronics:org", "-", "earnings", ""},
    {"Nvidia reports record revenue of $35.1 billion in third quarter", "", "Nvidia:org",
     "3.51e10 USD", "earnings chips", ""},
    {"Microsoft and OpenAI announce expanded partnership", "", "Microsoft:org; OpenAI:org", "-",
     "partnership ai", ""},
    {"New York Times sues OpenAI and Microsoft over copyright infringement", "",
     "New York Times:org; OpenAI:org; Microsoft:org; !York Times", "-", "lawsuit", ""},
    {"Google DeepMind CEO Demis Hassabis wins Nobel Prize in Chemistry", "",
     "Demis Hassabis:person; Google DeepMind:org", "-", "", ""},
    {"Reddit shares soar 48% in stock market debut", "", "Reddit:org", "-", "ipo", ""},
    {"iPhone 15 sales slow as Apple bets on COVID-19 recovery and Windows 11 upgrades", "",
     "iPhone 15:product; COVID-19:other; Windows 11:product; Apple:org", "-", "", "!raised"},
    {"OpenAI CEO Sam Altman said the company would invest £3.5 million on October 2, 2024.", "",
     "OpenAI:org; Sam Altman:person; !CEO", "3.5e6 GBP", "ai", ""},
    {"The deal, announced 2 Oct 2024, values the firm at ¥500 billion", "", "", "5e11 JPY", "",
     ""},
    {"Yen slides past 150 per dollar", "", "", "-", "", ""},
};

static void test_cases(const extractor_t *x)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const case_t *c = &cases[i];
        current = c->title;
        cJSON *o = run(x, c->title, c->text);
        if (!ASSERT_TRUE(o != NULL)) continue;
        ASSERT_TRUE(valid(o));
        check_entities(o, c->entities);
        check_money(o, c->money);
        check_tags(o, c->tags);
        check_facts(o, c->facts);
        cJSON_Delete(o);
    }
    current = NULL;
}

/* Amounts, percentages and dates found in running text. */
static void test_quantities(const extractor_t *x)
{
    current = "quantities";
    cJSON *o = run(x, "Revenue rose 12.5 percent to $4.2bn in Oct. 2024",
                   "Released on 2024-10-02, the update cost 3 per cent more. The deal, announced "
                   "2 Oct 2024 and closed on October 2nd, 2024, was 40% cash.");
    if (!ASSERT_TRUE(o != NULL)) return;
    const cJSON *pc = cJSON_GetObjectItem(o, "percentages"), *dates = cJSON_GetObjectItem(o, "dates");
    ASSERT_TRUE(cJSON_GetArraySize(pc) == 3);
    ASSERT_TRUE(near(cJSON_GetArrayItem(pc, 0)->child->next->valuedouble, 12.5));
    ASSERT_TRUE(str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(pc, 0), "text")->valuestring, "12.5 percent"));
    ASSERT_TRUE(near(cJSON_GetObjectItem(cJSON_GetArrayItem(pc, 2), "value")->valuedouble, 40));
    /* Each distinct date once, in order of appearance. */
    ASSERT_TRUE(cJSON_GetArraySize(dates) == 2);
    ASSERT_TRUE(str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(dates, 0), "value")->valuestring, "2024-10"));
    ASSERT_TRUE(str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(dates, 1), "value")->valuestring, "2024-10-02"));
    check_money(o, "4.2e9 USD");
    cJSON_Delete(o);
    current = NULL;
}

/* ---- Repository events ----------------------------------------------- */

typedef struct {
    const char *json, *title;
    const char *name, *actor, *action, *version; /* version NULL = null */
    const char *tags, *facts;
} repo_case_t;

static const repo_case_t repo_cases[] = {
    {"{\"type\":\"ReleaseEvent\",\"repo\":{\"name\":\"ggerganov/llama.cpp\"},\"actor\":{\"login\":"
     "\"ggerganov\"},\"payload\":{\"action\":\"published\",\"release\":{\"tag_name\":\"b4000\","
     "\"name\":\"b4000\"}}}",
     "", "ggerganov/llama.cpp", "ggerganov", "released", "b4000", "open-source release",
     "ggerganov/llama.cpp|released|b4000|-|-"},
    {"{\"type\":\"PushEvent\",\"repo\":{\"name\":\"torvalds/linux\"},\"actor\":{\"login\":"
     "\"torvalds\"},\"payload\":{\"ref\":\"refs/heads/master\",\"size\":3}}",
     "", "torvalds/linux", "torvalds", "pushed", NULL, "open-source !release", "!released"},
    {"{\"type\":\"IssuesEvent\",\"repo\":{\"name\":\"rust-lang/rust\"},\"actor\":{\"login\":"
     "\"octocat\"},\"payload\":{\"action\":\"opened\",\"issue\":{\"number\":1}}}",
     "ICE when compiling async closures", "rust-lang/rust", "octocat", "opened", NULL,
     "open-source", ""},
    {"{\"type\":\"WatchEvent\",\"repo\":{\"name\":\"anthropics/anthropic-sdk-python\"},\"actor\":"
     "{\"login\":\"alice\"},\"payload\":{\"action\":\"started\"}}",
     "", "anthropics/anthropic-sdk-python", "alice", "starred", NULL, "open-source", ""},
    {"{\"type\":\"PullRequestEvent\",\"repo\":{\"name\":\"python/cpython\"},\"actor\":{\"login\":"
     "\"bob\"},\"payload\":{\"action\":\"closed\",\"pull_request\":{\"merged\":true}}}",
     "gh-12345: Speed up json.loads", "python/cpython", "bob", "merged", NULL, "open-source", ""},
    {"{\"type\":\"PullRequestEvent\",\"repo\":{\"name\":\"python/cpython\"},\"actor\":{\"login\":"
     "\"bob\"},\"payload\":{\"action\":\"closed\",\"pull_request\":{\"merged\":false}}}",
     "", "python/cpython", "bob", "closed", NULL, "open-source", ""},
    {"{\"type\":\"CreateEvent\",\"repo\":{\"name\":\"vllm-project/vllm\"},\"actor\":{\"login\":"
     "\"carol\"},\"payload\":{\"ref\":\"v0.6.3\",\"ref_type\":\"tag\"}}",
     "", "vllm-project/vllm", "carol", "tagged", "v0.6.3", "open-source release",
     "vllm-project/vllm|released|v0.6.3|-|-"},
    {"{\"type\":\"CreateEvent\",\"repo\":{\"name\":\"o/r\"},\"actor\":{\"login\":\"dan\"},"
     "\"payload\":{\"ref\":\"feature-x\",\"ref_type\":\"branch\"}}",
     "", "o/r", "dan", "created", NULL, "open-source !release", "!released"},
    {"{\"type\":\"ForkEvent\",\"repo\":{\"name\":\"pytorch/pytorch\"},\"actor\":{\"login\":"
     "\"erin\"},\"payload\":{}}",
     "", "pytorch/pytorch", "erin", "forked", NULL, "open-source", ""},
    {"{\"type\":\"ReleaseEvent\",\"repo\":\"huggingface/transformers\",\"actor\":\"lysandre\","
     "\"tag\":\"v4.46.0\",\"topics\":[\"machine-learning\",\"NLP\",\"pytorch\",\"bad topic!\"]}",
     "Release v4.46.0: Llama 3.2 vision support", "huggingface/transformers", "lysandre",
     "released", "v4.46.0", "open-source release ai machine-learning nlp pytorch",
     "huggingface/transformers|released|v4.46.0|-|-"},
    {"{\"type\":\"GollumEvent\",\"repo\":{\"name\":\"o/wiki\"}}", "", "o/wiki", NULL, "other",
     NULL, "open-source", ""},
};

static void test_repo(const extractor_t *x)
{
    for (size_t i = 0; i < sizeof repo_cases / sizeof repo_cases[0]; i++) {
        const repo_case_t *c = &repo_cases[i];
        current = c->json;
        cJSON *ev = cJSON_Parse(c->json);
        if (!ASSERT_TRUE(ev != NULL)) continue;
        extract_input_t in = {1, c->title, "", "github", NULL, ev, NULL};
        char err[256];
        cJSON *o = extractor_run(x, &in, err, sizeof err);
        if (ASSERT_TRUE(o != NULL)) {
            ASSERT_TRUE(valid(o));
            const cJSON *r = cJSON_GetObjectItem(o, "repo");
            if (ASSERT_TRUE(r != NULL)) {
                ASSERT_TRUE(str_eq(cJSON_GetObjectItem(r, "name")->valuestring, c->name));
                const cJSON *a = cJSON_GetObjectItem(r, "actor");
                if (c->actor) ASSERT_TRUE(str_eq(cJSON_IsString(a) ? a->valuestring : NULL, c->actor));
                else ASSERT_TRUE(cJSON_IsNull(a));
                ASSERT_TRUE(str_eq(cJSON_GetObjectItem(r, "action")->valuestring, c->action));
                const cJSON *v = cJSON_GetObjectItem(r, "version");
                if (c->version) ASSERT_TRUE(str_eq(cJSON_IsString(v) ? v->valuestring : NULL, c->version));
                else ASSERT_TRUE(cJSON_IsNull(v));
            }
            check_tags(o, c->tags);
            check_facts(o, c->facts);
            cJSON_Delete(o);
        }
        cJSON_Delete(ev);
    }
    /* An article carries no repo section; a repo event without a name none. */
    current = "no repo";
    cJSON *o = run(x, "Nothing to see", "");
    ASSERT_TRUE(o && !cJSON_GetObjectItem(o, "repo"));
    cJSON_Delete(o);
    cJSON *ev = cJSON_Parse("{\"type\":\"PushEvent\",\"repo\":{\"id\":1}}");
    extract_input_t in = {1, "", "", NULL, NULL, ev, NULL};
    char err[256];
    o = extractor_run(x, &in, err, sizeof err);
    ASSERT_TRUE(o && !cJSON_GetObjectItem(o, "repo") && valid(o));
    cJSON_Delete(o);
    cJSON_Delete(ev);
    current = NULL;
}

/* Feed tags map through the taxonomy like title words. */
static void test_feed_tags(const extractor_t *x)
{
    current = "feed tags";
    cJSON *tags = cJSON_Parse("[\"Artificial Intelligence\", \"Security\", \"Startups\", 7]");
    extract_input_t in = {0, "A quiet week", "", NULL, "en", NULL, tags};
    char err[256];
    cJSON *o = extractor_run(x, &in, err, sizeof err);
    if (ASSERT_TRUE(o != NULL)) {
        check_tags(o, "ai security !funding");
        ASSERT_TRUE(valid(o));
    }
    cJSON_Delete(o);
    cJSON_Delete(tags);
    current = NULL;
}

/* ---- The text form ------------------------------------------------------
 * What the consumer stores: extractor_run_text's text must be the object
 * exactly as json_print prints it (one form, whichever way it was made),
 * and its names the object's entity names in order. */

static void check_text_form(const extractor_t *x, const extract_input_t *in, extraction_text_t *t)
{
    char err[256];
    if (!ASSERT_TRUE(extractor_run_text(x, in, NULL, t, err, sizeof err) == 0)) return;
    ASSERT_TRUE(t->json.len == strlen(t->json.data));
    cJSON *o = cJSON_Parse(t->json.data);
    if (!ASSERT_TRUE(o != NULL)) return;
    ASSERT_TRUE(valid(o));
    char *printed = json_print_alloc(o);
    ASSERT_TRUE(str_eq(t->json.data, printed ? printed : ""));
    free(printed);
    const char *names[64];
    size_t n = extraction_entity_names(o, names, 64);
    char got[24], want[24];
    snprintf(got, sizeof got, "%zu", t->n_names);
    snprintf(want, sizeof want, "%zu", n);
    ASSERT_TRUE(explain(n == t->n_names, "%s names, object has %s", got, want));
    const char *p = t->names.data;
    size_t used = 0;
    for (size_t i = 0; i < n && i < t->n_names; i++) {
        ASSERT_TRUE(str_eq(p, names[i]));
        used += strlen(p) + 1;
        p += strlen(p) + 1;
    }
    snprintf(got, sizeof got, "%zu", used);
    snprintf(want, sizeof want, "%zu", t->names.len);
    ASSERT_TRUE(explain(used == t->names.len, "names use %s of %s bytes", got, want));
    cJSON_Delete(o);
}

static void test_text_form(const extractor_t *x)
{
    extraction_text_t t = {0};
    /* One pair of buffers for every case: each run starts them afresh. */
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        current = cases[i].title;
        extract_input_t in = {0, cases[i].title, cases[i].text, "test", NULL, NULL, NULL};
        check_text_form(x, &in, &t);
    }
    for (size_t i = 0; i < sizeof repo_cases / sizeof repo_cases[0]; i++) {
        current = repo_cases[i].json;
        cJSON *ev = cJSON_Parse(repo_cases[i].json);
        extract_input_t in = {1, repo_cases[i].title, "", "github", NULL, ev, NULL};
        check_text_form(x, &in, &t);
        ASSERT_TRUE(strstr(t.json.data, ",\"repo\":{\"name\":") != NULL);
        cJSON_Delete(ev);
    }
    current = "text form: quantities and an empty document";
    extract_input_t q = {0, "Revenue rose 12.5 percent to $4.2bn in Oct. 2024",
                         "Released on 2024-10-02 at 3 per cent more; 40% cash.", NULL, NULL, NULL, NULL};
    check_text_form(x, &q, &t);
    ASSERT_TRUE(strstr(t.json.data, "\"percentages\":[{\"text\":\"12.5 percent\",\"value\":12.5}") != NULL);
    extract_input_t empty = {0, NULL, NULL, NULL, NULL, NULL, NULL};
    check_text_form(x, &empty, &t);
    ASSERT_TRUE(str_eq(t.json.data, "{\"extracted_by\":\"builtin\",\"extractor_version\":\"" EXTRACTOR_BUILTIN_VERSION
                                    "\",\"entities\":[],\"money\":[],\"percentages\":[],\"dates\":[],\"tags\":[],"
                                    "\"facts\":[],\"key_terms\":[]}"));
    ASSERT_TRUE(t.n_names == 0 && t.names.len == 0);
    extraction_text_free(&t);
    current = NULL;
}

/* ---- Parsers ------------------------------------------------------------ */

static void test_money_parse(void)
{
    static const struct {
        const char *in;
        double value;      /* < 0: no match */
        const char *cur;
        size_t consumed;
    } m[] = {
        {"$6.6B", 6.6e9, "USD", 5},
        {"$600 million in", 6e8, "USD", 12},
        {"€2bn", 2e9, "EUR", 6},
        {"£3.5 million", 3.5e6, "GBP", 13},
        {"USD 4 billion", 4e9, "USD", 13},
        {"4bn dollars", 4e9, "USD", 11},
        {"$1.8 billion", 1.8e9, "USD", 12},
        {"¥500m", 5e8, "JPY", 6},
        {"US$1.5bn", 1.5e9, "USD", 8},
        {"C$20 million", 2e7, "CAD", 12},
        {"$5-million deal", 5e6, "USD", 10},
        {"$1,200,000.50", 1200000.5, "USD", 13},
        {"$100,000", 1e5, "USD", 8},
        {"10 million pounds", 1e7, "GBP", 17},
        {"300 million euros", 3e8, "EUR", 17},
        {"2 trillion yen", 2e12, "JPY", 14},
        {"$40", 40, "USD", 3},
        {"€ 600", 600, "EUR", 7},
        {"$4k", 4e3, "USD", 3},
        {"EUR 12,5", 12, "EUR", 6},
        {"5 pounds of flour", -1, "", 0},
        {"$", -1, "", 0},
        {"$x", -1, "", 0},
        {"$4Bees", -1, "", 0},
        {"4bn", -1, "", 0},
        {"15", -1, "", 0},
        {"1.2.0 USD", -1, "", 0},
        {"$9999999999999999", -1, "", 0},
        {"usd 4", -1, "", 0},
        {"", -1, "", 0},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        current = m[i].in;
        money_t out = {-7, "zz"};
        size_t n = 99;
        int ok = money_parse(m[i].in, strlen(m[i].in), &out, &n);
        if (m[i].value < 0) {
            ASSERT_TRUE(explain(!ok, "unexpected match %s%s", m[i].in, ""));
            ASSERT_TRUE(out.value == -7 && n == 99); /* untouched */
            continue;
        }
        if (!ASSERT_TRUE(explain(ok, "no match for %s%s", m[i].in, ""))) continue;
        ASSERT_TRUE(near(out.value, m[i].value));
        ASSERT_TRUE(str_eq(out.currency, m[i].cur));
        ASSERT_TRUE(near((double)n, (double)m[i].consumed));
    }
    /* Reads only len bytes: "$6.6B" cut to "$6.6" is $6.60. */
    money_t out;
    size_t n;
    current = "length";
    ASSERT_TRUE(money_parse("$6.6B", 4, &out, &n) && near(out.value, 6.6) && n == 4);
    current = NULL;
}

static void test_percent_date_parse(void)
{
    double v;
    size_t n;
    current = "percent";
    ASSERT_TRUE(percent_parse("12%", 3, &v, &n) && near(v, 12) && n == 3);
    ASSERT_TRUE(percent_parse("12.5 percent", 12, &v, &n) && near(v, 12.5) && n == 12);
    ASSERT_TRUE(percent_parse("3 per cent", 10, &v, &n) && near(v, 3) && n == 10);
    ASSERT_TRUE(percent_parse("10-percent stake", 16, &v, &n) && near(v, 10) && n == 10);
    ASSERT_TRUE(!percent_parse("12 percentage", 13, &v, &n));
    ASSERT_TRUE(!percent_parse("12", 2, &v, &n));

    static const struct {
        const char *in, *want;
        size_t consumed;
    } d[] = {
        {"2024-10-02", "2024-10-02", 10},
        {"2024-10-02T14:00:00Z", "2024-10-02", 10},
        {"October 2, 2024", "2024-10-02", 15},
        {"Oct. 2, 2024", "2024-10-02", 12},
        {"Oct 2 2024", "2024-10-02", 10},
        {"October 2nd, 2024", "2024-10-02", 17},
        {"2 Oct 2024", "2024-10-02", 10},
        {"2nd October, 2024", "2024-10-02", 17},
        {"Oct. 2024", "2024-10", 9},
        {"Sept 2023", "2023-09", 9},
        {"February 29, 2024", "2024-02-29", 17},
        {"February 29, 2023", NULL, 0},
        {"2024-13-01", NULL, 0},
        {"2024-02-30", NULL, 0},
        {"October 2", NULL, 0},
        {"may 2024", NULL, 0},
        {"Octopus 2024", NULL, 0},
        {"October 20245", NULL, 0},
        {"1850-01-01", NULL, 0},
        {"32 Oct 2024", NULL, 0},
    };
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        current = d[i].in;
        char out[11] = "untouched";
        int ok = date_parse(d[i].in, strlen(d[i].in), out, &n);
        if (!d[i].want) {
            ASSERT_TRUE(explain(!ok, "unexpected date %s%s", out, ""));
            continue;
        }
        if (ASSERT_TRUE(explain(ok, "no date in %s%s", d[i].in, ""))) {
            ASSERT_TRUE(str_eq(out, d[i].want));
            ASSERT_TRUE(near((double)n, (double)d[i].consumed));
        }
    }
    current = NULL;
}

/* ---- Validation --------------------------------------------------------- */

static const char *good_llm =
    "{\"extracted_by\":\"llm:claude\",\"extractor_version\":\"2024-10\","
    "\"entities\":[{\"name\":\"Anthropic\",\"type\":\"org\",\"count\":2},{\"name\":\"Dario "
    "Amodei\",\"type\":\"person\"}],"
    "\"money\":[{\"text\":\"$4B\",\"value\":4e9,\"currency\":\"USD\"}],"
    "\"percentages\":[{\"value\":-3.5}],\"dates\":[{\"text\":\"2024\",\"value\":\"2024\"}],"
    "\"tags\":[\"ai\",\"funding\"],"
    "\"facts\":[{\"subject\":\"Anthropic\",\"predicate\":\"raised\",\"object\":\"Amazon\","
    "\"amount\":4e9,\"currency\":\"USD\"},{\"subject\":\"X\",\"predicate\":\"layoffs\","
    "\"count\":100,\"percent\":null}],"
    "\"repo\":{\"name\":\"o/r\",\"action\":\"released\",\"actor\":null,\"version\":\"v1\","
    "\"topics\":[\"llm\"]},\"key_terms\":[\"anthropic\"]}";

/* Applies a one-line mutation to a copy of good_llm and expects failure. */
typedef void (*mutate_fn)(cJSON *o);

static cJSON *arr_item(cJSON *o, const char *arr, int i)
{
    return cJSON_GetArrayItem(cJSON_GetObjectItem(o, arr), i);
}
static void m_no_tags(cJSON *o) { cJSON_DeleteItemFromObject(o, "tags"); }
static void m_bad_type(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "entities", 0), "type", cJSON_CreateString("company"));
}
static void m_lower_currency(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "money", 0), "currency", cJSON_CreateString("usd"));
}
static void m_negative(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "money", 0), "value", cJSON_CreateNumber(-5));
}
static void m_nan(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "facts", 0), "amount", cJSON_CreateNumber(NAN));
}
static void m_long_name(cJSON *o)
{
    char buf[600];
    memset(buf, 'a', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    cJSON_ReplaceItemInObject(arr_item(o, "entities", 0), "name", cJSON_CreateString(buf));
}
static void m_many_entities(cJSON *o)
{
    cJSON *a = cJSON_GetObjectItem(o, "entities");
    for (int i = 0; i < 200; i++) cJSON_AddItemToArray(a, cJSON_Duplicate(cJSON_GetArrayItem(a, 0), 1));
}
static void m_unknown_key(cJSON *o) { cJSON_AddStringToObject(o, "summary", "x"); }
static void m_bad_date(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "dates", 0), "value", cJSON_CreateString("2024-13-01"));
}
static void m_upper_tag(cJSON *o) { cJSON_AddItemToArray(cJSON_GetObjectItem(o, "tags"), cJSON_CreateString("AI")); }
static void m_dup_tag(cJSON *o) { cJSON_AddItemToArray(cJSON_GetObjectItem(o, "tags"), cJSON_CreateString("ai")); }
static void m_predicate(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "facts", 0), "predicate", cJSON_CreateString("invested"));
}
static void m_amount_no_currency(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "facts", 0), "currency", cJSON_CreateNull());
}
static void m_repo_no_name(cJSON *o) { cJSON_DeleteItemFromObject(cJSON_GetObjectItem(o, "repo"), "name"); }
static void m_bad_utf8(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "entities", 1), "name", cJSON_CreateString("Dario \xff"));
}
static void m_fraction_count(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "entities", 0), "count", cJSON_CreateNumber(1.5));
}
static void m_entities_not_array(cJSON *o)
{
    cJSON_ReplaceItemInObject(o, "entities", cJSON_CreateObject());
}
static void m_dup_key(cJSON *o)
{
    cJSON_AddItemToArray(cJSON_GetObjectItem(o, "entities"), cJSON_Parse(
        "{\"name\":\"A\",\"type\":\"org\",\"type\":\"bogus\"}"));
}
static void m_percent_over(cJSON *o)
{
    cJSON_ReplaceItemInObject(arr_item(o, "facts", 1), "percent", cJSON_CreateNumber(150));
}

static void test_validate(const extractor_t *x)
{
    char err[256];
    current = "validate";
    cJSON *good = cJSON_Parse(good_llm);
    if (!ASSERT_TRUE(good != NULL)) return;
    ASSERT_TRUE(valid(good));

    static const mutate_fn bad[] = {m_no_tags,      m_bad_type,         m_lower_currency,
                                    m_negative,     m_nan,              m_long_name,
                                    m_many_entities, m_unknown_key,     m_bad_date,
                                    m_upper_tag,    m_dup_tag,          m_predicate,
                                    m_amount_no_currency, m_repo_no_name, m_bad_utf8,
                                    m_fraction_count, m_entities_not_array, m_percent_over,
                                    m_dup_key};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *o = cJSON_Duplicate(good, 1);
        bad[i](o);
        err[0] = '\0';
        ASSERT_TRUE(extraction_validate(o, err, sizeof err) == -1 && err[0]);
        cJSON_Delete(o);
    }
    ASSERT_TRUE(extraction_validate(NULL, err, sizeof err) == -1);
    cJSON *arr = cJSON_CreateArray();
    ASSERT_TRUE(extraction_validate(arr, err, sizeof err) == -1);
    cJSON_Delete(arr);
    cJSON_Delete(good);

    /* Every built-in output validates, even for an empty document. */
    cJSON *o = run(x, "", "");
    ASSERT_TRUE(o && valid(o));
    cJSON_Delete(o);
    extract_input_t in = {0, NULL, NULL, NULL, NULL, NULL, NULL};
    o = extractor_run(x, &in, err, sizeof err);
    ASSERT_TRUE(o && valid(o));
    cJSON_Delete(o);
    current = NULL;
}

/* ---- Loading ------------------------------------------------------------ */

static char *write_temp(const char *content)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/shoal_test_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t n = strlen(content);
    ssize_t w = write(fd, content, n);
    close(fd);
    return w == (ssize_t)n ? path : NULL;
}

static void test_loading(void)
{
    char err[256];
    current = "loading";
    ASSERT_TRUE(!extractor_new("/nonexistent/taxonomy.json", NULL, err, sizeof err) &&
                strstr(err, "taxonomy"));
    ASSERT_TRUE(!extractor_new(TAXONOMY, "/nonexistent/gazetteer.tsv", err, sizeof err) &&
                strstr(err, "gazetteer"));

    static const char *bad_tax[] = {"not json", "{\"tags\": []}", "{\"tags\": {}}",
                                    "{\"tags\": {\"AI\": [\"x\"]}}", "{\"tags\": {\"ai\": [\"\"]}}",
                                    "{\"tags\": {\"ai\": [1]}}",
                                    "{\"tags\": {\"ai\": [\"a b c d e f g h i\"]}}"};
    for (size_t i = 0; i < sizeof bad_tax / sizeof bad_tax[0]; i++) {
        char *p = write_temp(bad_tax[i]);
        if (!ASSERT_TRUE(p != NULL)) continue;
        err[0] = '\0';
        extractor_t *x = extractor_new(p, NULL, err, sizeof err);
        ASSERT_TRUE(explain(!x && err[0], "bad taxonomy accepted: %s%s", bad_tax[i], ""));
        extractor_destroy(x);
        unlink(p);
    }

    char *g = write_temp("# names\nThrive Capital\torg\nJane Q Doe\tperson\nFrobnicator Pro\tproduct\n"
                         "\nZorblax\tplace\n");
    if (ASSERT_TRUE(g != NULL)) {
        extractor_t *x = extractor_new(TAXONOMY, g, err, sizeof err);
        unlink(g);
        if (ASSERT_TRUE(x != NULL)) {
            current = "gazetteer";
            cJSON *o = run(x, "Zorblax startup ships Frobnicator Pro", "Jane Q Doe leads the team.");
            if (ASSERT_TRUE(o != NULL)) {
                check_entities(o, "Zorblax:place; Frobnicator Pro:product; Jane Q Doe:person");
                cJSON_Delete(o);
            }
            ASSERT_TRUE(str_eq(extractor_tag(x, 0), "ai"));
            ASSERT_TRUE(extractor_tag(x, 1000) == NULL);
            extractor_destroy(x);
        }
    }
    g = write_temp("Acme\tcompany\n");
    if (ASSERT_TRUE(g != NULL)) {
        ASSERT_TRUE(!extractor_new(TAXONOMY, g, err, sizeof err) && strstr(err, ":1:"));
        unlink(g);
    }
    /* NULL taxonomy: the default path (tests run from the repository root). */
    extractor_t *dflt = extractor_new(NULL, NULL, err, sizeof err);
    ASSERT_TRUE(dflt != NULL);
    extractor_destroy(dflt);
    extractor_destroy(NULL);
    current = NULL;
}

/* ---- Hostile input ------------------------------------------------------ */

static void test_hostile(const extractor_t *x)
{
    size_t n = 10u << 20;
    char *big = malloc(n + 1), *text = malloc(n + 1);
    if (!ASSERT_TRUE(big && text)) {
        free(big);
        free(text);
        return;
    }
    static const char *const fill[] = {
        "A",  "Aaaa Bbbb Cccc Dddd ", "$1 ", "1,000,000,000,000,000,000 ", "€", "\xff\xfe",
        "Oct. ", "OpenAI raises $1B from Amazon. ", "9", "-", "' ", "Mr. ",
    };
    for (size_t f = 0; f < sizeof fill / sizeof fill[0]; f++) {
        current = fill[f];
        size_t l = strlen(fill[f]);
        for (size_t i = 0; i < n; i++) big[i] = fill[f][i % l];
        big[n] = '\0';
        memcpy(text, big, n + 1);
        cJSON *o = run(x, big, text);
        if (ASSERT_TRUE(o != NULL)) {
            ASSERT_TRUE(valid(o));
            ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItem(o, "entities")) <= 50);
            ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItem(o, "money")) <= 32);
            ASSERT_TRUE(cJSON_GetArraySize(cJSON_GetObjectItem(o, "facts")) <= 16);
            cJSON_Delete(o);
        }
    }
    /* Many distinct names: candidate table stays bounded. */
    size_t o = 0;
    for (int i = 0; o + 32 < n && i < 200000; i++)
        o += (size_t)snprintf(text + o, n - o, "Zq%dx met Wv%dy. ", i, i);
    current = "many names";
    cJSON *out = run(x, "", text);
    ASSERT_TRUE(out && valid(out) && cJSON_GetArraySize(cJSON_GetObjectItem(out, "entities")) == 50);
    cJSON_Delete(out);
    free(big);
    free(text);
    current = NULL;
}

/* ---- Threads ------------------------------------------------------------ */

typedef struct {
    const extractor_t *x;
    int ok;
} thread_arg_t;

static void *thread_main(void *p)
{
    thread_arg_t *a = p;
    a->ok = 1;
    for (int r = 0; r < 20; r++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            extract_input_t in = {0, cases[i].title, cases[i].text, NULL, NULL, NULL, NULL};
            char err[256];
            cJSON *o = extractor_run(a->x, &in, err, sizeof err);
            a->ok &= o != NULL && extraction_validate(o, err, sizeof err) == 0;
            cJSON_Delete(o);
        }
    return NULL;
}

static void test_threads(const extractor_t *x)
{
    pthread_t t[4];
    thread_arg_t a[4];
    for (int i = 0; i < 4; i++) {
        a[i].x = x;
        ASSERT_TRUE(pthread_create(&t[i], NULL, thread_main, &a[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ASSERT_TRUE(a[i].ok);
    }
}

/* ---- Timing (printed only) ----------------------------------------------
 * Articles of ~2 KB assembled from wire-style paragraphs, varied per
 * document; and, harder, from the headline table above (a name or an
 * amount every few words). */

static const char *const paragraphs[] = {
    "OpenAI has raised $6.6 billion in a new funding round led by Thrive Capital, the company "
    "said on Wednesday, valuing the ChatGPT maker at $157 billion.",
    "Microsoft, Nvidia and SoftBank also took part in the round, according to people familiar "
    "with the matter who asked not to be named because the talks were private.",
    "The San Francisco-based startup, which was founded in 2015, said the money would help it "
    "expand research and build more computing capacity.",
    "Chief executive Sam Altman told employees in a memo that the company expected revenue of "
    "about $3.7 billion this year, up from $1.6 billion in 2023.",
    "Rival Anthropic, backed by Amazon and Google, has also been raising money, while Elon "
    "Musk's xAI closed a $6 billion round in May.",
    "Shares of Nvidia rose 2% in early trading as investors bet on continued demand for the "
    "chips that train large language models.",
    "Regulators in the European Union and the United States have stepped up scrutiny of the "
    "partnerships between big technology companies and AI startups.",
    "The Federal Trade Commission opened an inquiry in January into investments by Alphabet, "
    "Amazon and Microsoft.",
    "Analysts at Morgan Stanley said the deal underscored how much capital is needed to compete "
    "at the frontier of artificial intelligence.",
    "The company plans to convert its non-profit structure into a for-profit benefit "
    "corporation within two years, the documents showed.",
    "Meanwhile, several senior executives have left, including chief technology officer Mira "
    "Murati, who announced her departure last week.",
    "The company also said on October 2, 2024 that it would open new offices in London, Paris "
    "and Singapore and hire about 200 people.",
    "A spokesperson declined to comment on the valuation, which would make it one of the most "
    "valuable private companies in the world.",
    "Some investors have questioned whether the spending on data centers can be recovered, "
    "given that the company expects to lose about $5 billion this year.",
};

static double bench_run(const extractor_t *x, char (*docs)[2560], int ndoc, int iters, size_t *avg)
{
    size_t total = 0;
    double t0 = clock_monotonic_s();
    for (int i = 0; i < iters; i++) {
        const char *doc = docs[i % ndoc];
        cJSON *o = run(x, cases[i % (sizeof cases / sizeof cases[0])].title, doc);
        total += strlen(doc);
        cJSON_Delete(o);
    }
    *avg = total / (size_t)iters;
    return iters / (clock_monotonic_s() - t0);
}

static int bench(const extractor_t *x, int iters)
{
    enum { NDOC = 64, DOC = 2048 };
    static char articles[NDOC][2560], dense[NDOC][2560];
    size_t np = sizeof paragraphs / sizeof paragraphs[0], nc = sizeof cases / sizeof cases[0];
    for (int d = 0; d < NDOC; d++) {
        size_t o = 0;
        for (size_t k = 0; o < DOC; k++)
            o += (size_t)snprintf(articles[d] + o, sizeof articles[d] - o, "%s ",
                                  paragraphs[(d * 5 + k * 3) % np]);
        o = 0;
        for (size_t k = 0; o < DOC; k++) {
            const case_t *c = &cases[(d * 7 + k * 13) % nc];
            o += (size_t)snprintf(dense[d] + o, sizeof dense[d] - o, "%s. %s ", c->title, c->text);
        }
    }
    size_t avg;
    double r = bench_run(x, articles, NDOC, iters, &avg);
    printf("bench: articles: %d documents, %zu bytes average, %.0f documents/s on one thread\n",
           iters, avg, r);
    r = bench_run(x, dense, NDOC, iters, &avg);
    printf("bench: headline soup: %d documents, %zu bytes average, %.0f documents/s on one thread\n",
           iters, avg, r);
    return 0;
}

/* The taxonomy built into the binary is schema/taxonomy.json, tag for tag. */
static void test_builtin_taxonomy(const extractor_t *from_file)
{
    char err[256];
    extractor_t *b = extractor_new(NULL, NULL, err, sizeof err);
    ASSERT_TRUE(b != NULL);
    if (!b) return;
    size_t i = 0;
    for (; extractor_tag(from_file, i); i++) ASSERT_STR_EQ(extractor_tag(b, i), extractor_tag(from_file, i));
    ASSERT_TRUE(i >= 8 && extractor_tag(b, i) == NULL);
    extractor_destroy(b);
}

int main(int argc, char **argv)
{
    char err[256];
    extractor_t *x = extractor_new(TAXONOMY, NULL, err, sizeof err);
    if (!x) {
        fprintf(stderr, "extractor_new: %s (run from the repository root)\n", err);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        int rc = bench(x, argc > 2 ? atoi(argv[2]) : 50000);
        extractor_destroy(x);
        return rc;
    }
    test_cases(x);
    test_quantities(x);
    test_repo(x);
    test_feed_tags(x);
    test_text_form(x);
    test_money_parse();
    test_percent_date_parse();
    test_validate(x);
    test_loading();
    test_hostile(x);
    test_threads(x);
    test_builtin_taxonomy(x);
    extractor_destroy(x);
    return TEST_DONE();
}
